package org.qlimit.recon;

import static org.qlimit.recon.BitWidths.FIRST_LAYER_SKIPPED;
import static org.qlimit.recon.BitWidths.actBits;
import static org.qlimit.recon.BitWidths.weightBits;
import static org.qlimit.recon.BitWidths.ownOutputSite;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.Dropping;
import org.qlimit.quant.Observers;
import org.qlimit.quant.QDropMask;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The reconstruction engine: builds the quantized version of a folded FP model with one of the
 * methods of ALGORITHMS.md §4 and returns its {@link QuantState}. The FP model is not modified.
 *
 * <p>Pipeline per method, one private method each ({@code rtn}, {@code adaRound},
 * {@code brecq}, {@code qdrop}), every unit optimised by {@link UnitOptimizer} (units in network
 * order; "quantized input" = the output of the already reconstructed, quantized prefix;
 * targets = the FP network's unit outputs):
 * <ul>
 *   <li>RTN: per-channel weight ranges (shrink-Lp), nearest rounding; activation steps by
 *       sequential shrink-Lp calibration on 64 images.</li>
 *   <li>AdaRound: per layer (not the first), AdaRound against the FP layer output (after its
 *       activation function) from quantized inputs, activations off; then activation calibration
 *       as RTN.</li>
 *   <li>BRECQ: phase 1 as AdaRound but per block; phase 2: sequential activation calibration,
 *       then per unit the steps are learned (LSQ, no gradient scaling, Adam 4e-4 with cosine decay,
 *       |ŷ − y|^2.4 loss) from FP inputs with hard-rounded weights.</li>
 *   <li>QDrop: grid-Lp ranges for weights and (on FP activations of 256 images) activations; per
 *       unit, rounding and steps learned jointly from inputs that mix quantized and FP values
 *       element-wise, with the same random dropping at every activation quantizer of the unit.</li>
 * </ul>
 * First/last-layer rules follow §5. BRECQ and QDrop reconstruct the units of {@link
 * ReconConfig#granularity()} (§4.4: layers, blocks, stages or the whole net; blocks by default)
 * with the squared error or, with {@link ReconLoss#FISHER_DIAG}, BRECQ's Fisher-weighted loss
 * (§4.5, {@link FisherWeights}).
 */
public final class Reconstructor {
  private static final int LOSS_PROBE = 256;

  private final Model model;
  private final ReconConfig cfg;
  private final Kernels k;
  private final ReconListener listener;
  private final QuantState state;
  private final List<UnitRecord> records = new ArrayList<>();
  private final Map<String, Integer> layerBits;

  /** Outcome of a run. */
  public record Result(QuantState state, List<UnitRecord> records) {}

  /**
   * A consistent point of a run, taken after each unit: the quantization so far (every weight
   * fixed) and the records of the units done. A run resumed from it ({@link #resumeFrom}) ends
   * with the same bits as an uninterrupted run: every random stream is addressed by (seed, unit,
   * step), optimizer state lives within one unit, and the cached inputs of later units are
   * recomputed from the restored quantization.
   */
  public record Checkpoint(QuantState state, List<UnitRecord> records) {}

  private Consumer<Checkpoint> checkpointSink = c -> {};
  /** Where the cached unit inputs and outputs are kept (the heap unless set). */
  private CacheStore store = CacheStore.HEAP;
  /** Units already done by the run being resumed (0 for a fresh run). */
  private int resumeUnits;
  /** Units visited so far in this run (done, skipped as resumed, or recorded as not optimized). */
  private int position;
  /** The FP network's logits on the calibration images, for the Fisher loss (else null). */
  private Tensor fpLogits;

  public Reconstructor(Model model, ReconConfig cfg, Kernels k, ReconListener listener) {
    this(model, cfg, k, listener, Map.of());
  }

  /**
   * A run with per-layer weight bit widths (mixed precision): {@code layerBits} maps layer names
   * to bits (2..8) and overrides the uniform rule for the layers it names.
   */
  public Reconstructor(Model model, ReconConfig cfg, Kernels k, ReconListener listener,
      Map<String, Integer> layerBits) {
    for (Map.Entry<String, Integer> e : layerBits.entrySet()) {
      boolean known = false;
      for (Layer l : model.layers()) {
        known |= l.name().equals(e.getKey());
      }
      Check.arg(known, "bit assignment names layer %s, which model %s does not have", e.getKey(),
          model.arch());
      Check.arg(e.getValue() >= 2 && e.getValue() <= 8, "layer %s: bits must be in 2..8, got %d",
          e.getKey(), e.getValue());
    }
    this.layerBits = new LinkedHashMap<>(layerBits);
    for (Var p : model.parameters()) {
      Check.arg(!p.requiresGrad(), "model %s: parameter %s is trainable; load the model with "
          + "BatchNorm folded (frozen) for quantization", model.arch(), p.name());
    }
    this.model = model;
    this.cfg = cfg;
    this.k = k;
    this.listener = listener;
    this.state = new QuantState(model);
  }

  /**
   * Calls {@code sink} after every unit (including units that are recorded but not optimized,
   * such as BRECQ's first layer) with the run's state at that point; the command line writes it
   * to disk for {@link #resumeFrom}. Returns this.
   */
  public Reconstructor checkpointEach(Consumer<Checkpoint> sink) {
    this.checkpointSink = java.util.Objects.requireNonNull(sink, "checkpoint sink");
    return this;
  }

  /**
   * Keeps the cached unit inputs and outputs in {@code store} (default {@link CacheStore#HEAP});
   * any store gives the same bits. The caller closes the store after {@link #run}. Returns this.
   */
  public Reconstructor cacheStore(CacheStore store) {
    this.store = java.util.Objects.requireNonNull(store, "cache store");
    return this;
  }

  /**
   * Continues the run that wrote {@code c} (same model, configuration, calibration images; the
   * caller checks that): its quantizers replace this run's, its units are not run again and their
   * records are kept. Must be called before {@link #run}. Returns this.
   */
  public Reconstructor resumeFrom(Checkpoint c) {
    Check.arg(c.state().model() == model, "checkpoint: quantizes a different model object");
    Check.state(position == 0 && records.isEmpty(), "resumeFrom: the run has already started");
    for (Map.Entry<Layer, WeightQuantizer> e : c.state().weightsInOrder()) {
      state.setWeight(e.getKey(), e.getValue());
    }
    for (ActQuantizer a : c.state().actsInOrder()) {
      state.setAct(a.site(), a);
    }
    records.addAll(c.records());
    resumeUnits = c.records().size();
    return this;
  }

  /**
   * Whether {@code method} learns its rounding in a phase of its own, before and independently of
   * the activation quantizers: AdaRound (§4.3) and BRECQ (§4.1). Their weight phase reads neither
   * the activation bits nor any activation quantizer, so runs that differ only in {@code abits}
   * can share it ({@link #isWeightPhase}).
   */
  public static boolean hasWeightPhase(Method method) {
    return method == Method.ADAROUND || method == Method.BRECQ;
  }

  /** Whether {@code r} is a unit record of an AdaRound or BRECQ weight phase. */
  public static boolean isWeightPhase(UnitRecord r) {
    return r.phase().equals(Phase.LAYER.label) || r.phase().equals(Phase.WEIGHTS.label);
  }

  /** True (and counted) when the next unit was done by the run being resumed. */
  private boolean alreadyDone() {
    if (position < resumeUnits) {
      position++;
      return true;
    }
    return false;
  }

  private void skipped(UnitRecord r) {
    listener.unitEnd(r);
    unitDone(r);
  }

  private void unitDone(UnitRecord r) {
    records.add(r);
    position++;
    checkpointSink.accept(new Checkpoint(state, List.copyOf(records)));
  }

  /**
   * Runs the configured method on the calibration images (N, C, H, W), or for a sequence model
   * (input shape (L)) on calibration token ids (N, Lc), Lc ≤ L, padded with [PAD].
   */
  public Result run(Tensor calib) {
    int[] in = model.inputShape();
    if (in.length == 1) {
      Check.arg(calib.rank() == 2 && calib.dim(1) <= in[0],
          "calibration token ids %s do not fit the model input (N, L <= %d)", calib, in[0]);
    } else {
      Check.arg(calib.rank() == 4 && calib.dim(1) == in[0] && calib.dim(2) == in[1]
              && calib.dim(3) == in[2],
          "calibration images %s do not match the model input (C,H,W)=(%d,%d,%d)", calib, in[0],
          in[1], in[2]);
    }
    Check.arg(calib.dim(0) >= 1, "no calibration images");
    boolean resuming = resumeUnits > 0;
    ActivationCache images = ActivationCache.of(calib);
    if (resuming) {
      listener.stage("resuming after " + resumeUnits + " unit(s)");
    } else {
      listener.stage("weight ranges (" + weightObserverName() + ", per channel)");
      initWeights();
    }
    if (cfg.loss() == ReconLoss.FISHER_DIAG) {
      fpLogits = FisherWeights.fpLogits(k, model, images);
    }
    switch (cfg.method()) {
      case RTN -> rtn(calib);
      case ADAROUND -> adaRound(images, calib);
      case BRECQ -> brecq(images, calib);
      case QDROP -> qdrop(images, calib, resuming);
      default -> throw new IllegalStateException("unhandled method " + cfg.method());
    }
    return new Result(state, List.copyOf(records));
  }

  // ------------------------------------------------------------------ bit widths (§5)
  private Layer firstLayer() {
    return model.layers().get(0);
  }

  private String weightObserverName() {
    return cfg.method() == Method.QDROP ? "grid-Lp" : "shrink-Lp";
  }

  private QParams observeWeight(Layer l) {
    Integer override = layerBits.get(l.name());
    QScheme scheme = QScheme.asymmetric(override != null ? override
        : weightBits(model, l, cfg.wbits()));
    return observeWeight(k, cfg.method(), l, scheme);
  }

  /**
   * The weight observer of each method's reference (section 5): QDrop's grid-Lp search, BRECQ's
   * shrink-Lp search for the others, per output channel. Shared with the sensitivity measurement
   * so that both see the same weight grid.
   */
  public static QParams observeWeight(Kernels k, Method method, Layer l, QScheme scheme) {
    float[] w = l.weight().value().contiguous().data();
    return observed("layer " + l.name() + " weight", w,
        () -> method == Method.QDROP ? Observers.gridLp(k, w, l.outChannels(), scheme)
            : Observers.shrinkLp(k, w, l.outChannels(), scheme));
  }

  /**
   * Runs {@code observer} on {@code x} and names {@code what} (a layer or an activation site) in
   * its failures: a NaN or ±Inf in x (an overflow in the layers before, or non-finite weights)
   * or a range whose step is not finite. Reads x only, so the result is unchanged.
   *
   * @param x the observed values. Not modified.
   * @throws IllegalStateException naming {@code what} and the cause
   */
  static QParams observed(String what, float[] x, java.util.function.Supplier<QParams> observer) {
    int bad = Check.firstNonFinite(x);
    if (bad >= 0) {
      throw new IllegalStateException(what + ": value " + bad + " is " + Check.describe(x[bad])
          + " (NaN or infinity reached the observer)");
    }
    try {
      return observer.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(what + ": " + e.getMessage(), e);
    }
  }

  private void initWeights() {
    for (Layer l : model.layers()) {
      state.setWeight(l, WeightQuantizer.Fixed.nearest(l, observeWeight(l)));
    }
  }

  // ------------------------------------------------------------------ activation calibration
  /**
   * "N images", or "N images (all there are; the method uses up to M)" when the calibration set
   * has fewer than the method's count; "sentences" for a sequence model.
   */
  private String imagesUsed(Tensor images, int wanted) {
    int n = images.dim(0);
    String items = BitWidths.isSequenceModel(model) ? " sentences" : " images";
    return n < wanted ? n + items + " (all there are; the method uses up to " + wanted + ")"
        : n + items;
  }

  /**
   * BRECQ-style on the first {@code cfg.brecqActImages()} calibration images: one forward pass of
   * the quantized network (current weights, activation quantizers on); each site, in execution
   * order, gets its range from the shrink-Lp search on the activations it receives, which
   * already carry the quantization of every earlier site.
   */
  private void calibrateActsSequential(Tensor calib) {
    Tensor images = Batches.head(calib, cfg.brecqActImages());
    listener.stage("activation ranges (shrink-Lp, sequential, "
        + imagesUsed(images, cfg.brecqActImages()) + ")");
    QuantContext full = QuantContext.full(state);
    ForwardContext ctx = new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        return full.weight(g, layer);
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        if (state.act(site) == null) {
          QScheme s = QScheme.asymmetric(actBits(model, cfg.method(), site, cfg.abits()));
          float[] v = x.value().contiguous().data();
          QParams p = observed("activation site " + site, v,
              () -> Observers.shrinkLp(k, v, 1, s));
          state.setAct(site, new ActQuantizer(site, p, true));
        }
        return full.activation(g, site, x);
      }

      @Override
      public Var embeddingTable(Graph g, String name, Var table) {
        return full.embeddingTable(g, name, table);
      }
    };
    model.forward(Graph.inference(k), Var.constant(images), ctx);
  }

  /** QDrop-style: grid-Lp ranges from the FP activations (no quantization anywhere). */
  private void calibrateActsFp(Tensor images) {
    for (Map.Entry<String, QParams> e
        : fpActivationRanges(k, model, cfg.method(), cfg.abits(), images).entrySet()) {
      state.setAct(e.getKey(), new ActQuantizer(e.getKey(), e.getValue(), true));
    }
  }

  /**
   * Per-tensor parameters of every activation site, in execution order, from one FP forward pass
   * of {@code images} (FP weights, no quantization anywhere): the method's activation observer
   * (QDrop: grid-Lp; the others: shrink-Lp) at {@link #actBits}.
   */
  public static Map<String, QParams> fpActivationRanges(Kernels k, Model model, Method method,
      int abits, Tensor images) {
    Map<String, QParams> found = new LinkedHashMap<>();
    ForwardContext ctx = new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        return layer.weight();
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        QScheme s = QScheme.asymmetric(actBits(model, method, site, abits));
        float[] v = x.value().contiguous().data();
        found.put(site, observed("activation site " + site, v,
            () -> method == Method.QDROP ? Observers.gridLp(k, v, 1, s)
                : Observers.shrinkLp(k, v, 1, s)));
        return x;
      }
    };
    model.forward(Graph.inference(k), Var.constant(images), ctx);
    return found;
  }

  // ------------------------------------------------------------------ method pipelines
  /** RTN (§2): nearest rounding (set by the weight ranges); activation ranges as BRECQ's. */
  private void rtn(Tensor calib) {
    if (cfg.quantizeActivations()) {
      calibrateActsSequential(calib);
    }
  }

  /** AdaRound (§4.3): each layer's rounding, activations off; then activation ranges. */
  private void adaRound(ActivationCache images, Tensor calib) {
    layerwise(images, Phase.LAYER, QuantContext.weightsOnly(state), false, false);
    if (cfg.quantizeActivations()) {
      calibrateActsSequential(calib);
    }
  }

  /** BRECQ (§4.1): each unit's rounding; then activation ranges and each unit's steps. */
  private void brecq(ActivationCache images, Tensor calib) {
    if (layerUnits()) {
      layerwise(images, Phase.WEIGHTS, QuantContext.weightsOnly(state), true, false);
    } else {
      brecqWeights(images);
    }
    if (cfg.quantizeActivations()) {
      calibrateActsSequential(calib);
      if (layerUnits()) {
        layerwise(images, Phase.ACTIVATIONS, QuantContext.full(state), true, false);
      } else {
        brecqActivations(images);
      }
    }
  }

  /** QDrop (§4.2): activation ranges on FP activations; then each unit's rounding and steps. */
  private void qdrop(ActivationCache images, Tensor calib, boolean resuming) {
    if (cfg.quantizeActivations() && !resuming) {
      Tensor actImages = Batches.head(calib, cfg.qdropActImages());
      listener.stage("activation ranges (grid-Lp on FP activations, "
          + imagesUsed(actImages, cfg.qdropActImages()) + ")");
      calibrateActsFp(actImages);
    }
    if (layerUnits()) {
      layerwise(images, Phase.JOINT, qdropContext(), true, qdropMixing());
    } else {
      qdropJoint(images);
    }
  }

  /** Whether BRECQ and QDrop reconstruct layer units (§4.4, {@code --granularity layer}). */
  private boolean layerUnits() {
    return cfg.granularity() == Granularity.LAYER;
  }

  private boolean isFirstLayerUnit(Unit u) {
    return u.layers().size() == 1 && u.layers().get(0) == firstLayer();
  }

  /**
   * The units reconstructed one after another ({@link Granularity#partition}; BRECQ keeps its
   * first layer apart at every granularity, since it does not reconstruct it).
   */
  private List<Unit> reconUnits() {
    return cfg.granularity().partition(model, cfg.method() == Method.BRECQ);
  }

  /** The index in {@code model.units()} of the model unit whose output is {@code u}'s. */
  private int lastModelUnit(Unit u) {
    Unit last = u instanceof UnitGroup grp ? grp.last() : u;
    List<Unit> units = model.units();
    for (int i = 0; i < units.size(); i++) {
      if (units.get(i) == last) {
        return i;
      }
    }
    throw new IllegalArgumentException("unit " + u.name() + " does not end at a model unit");
  }

  private void brecqWeights(ActivationCache calib) {
    ActivationCache fpIn = calib;
    ActivationCache qIn = calib;
    List<Unit> units = reconUnits();
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      ActivationCache fpOut = runUnit(u, fpIn, ForwardContext.FP);
      if (isFirstLayerUnit(u)) {
        if (!alreadyDone()) {
          skipped(UnitRecord.skipped(u.name(), Phase.WEIGHTS.label, FIRST_LAYER_SKIPPED));
        }
      } else {
        optimize(i, units.size(), u, Phase.WEIGHTS, qIn, null, fpOut,
            QuantContext.weightsOnly(state));
      }
      ActivationCache qOut = runUnit(u, qIn, QuantContext.weightsOnly(state));
      release(qIn, calib);
      release(fpIn, calib);
      qIn = qOut;
      fpIn = fpOut;
    }
    release(qIn, calib);
    release(fpIn, calib);
  }

  private void brecqActivations(ActivationCache calib) {
    ActivationCache fpIn = calib;
    List<Unit> units = reconUnits();
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      ActivationCache fpOut = runUnit(u, fpIn, ForwardContext.FP);
      if (!isFirstLayerUnit(u) && !u.actSites().isEmpty()) {
        optimize(i, units.size(), u, Phase.ACTIVATIONS, fpIn, null, fpOut,
            QuantContext.full(state));
      }
      release(fpIn, calib);
      fpIn = fpOut;
    }
    release(fpIn, calib);
  }

  /** QDrop's forward context: quantized weights, and activations with QDrop's step gradient. */
  private QuantContext qdropContext() {
    return cfg.quantizeActivations() ? QuantContext.full(state).withGradScale(-1f)
        : QuantContext.weightsOnly(state);
  }

  /** Whether QDrop mixes FP values into a unit's quantized input (and drops at its sites). */
  private boolean qdropMixing() {
    return cfg.quantizeActivations() && cfg.keepProb() < 1f;
  }

  private void qdropJoint(ActivationCache calib) {
    ActivationCache fpIn = calib;
    ActivationCache qIn = calib;
    List<Unit> units = reconUnits();
    QuantContext base = qdropContext();
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      ActivationCache fpOut = runUnit(u, fpIn, ForwardContext.FP);
      boolean mix = qdropMixing();
      optimize(i, units.size(), u, Phase.JOINT, qIn, mix ? fpIn : null, fpOut, base);
      ActivationCache qOut = runUnit(u, qIn, base);
      release(qIn, calib);
      release(fpIn, calib);
      qIn = qOut;
      fpIn = fpOut;
    }
    release(qIn, calib);
    release(fpIn, calib);
  }

  /** Closes {@code c} unless it is {@code keep} (the calibration images, owned by the caller). */
  private static void release(ActivationCache c, ActivationCache keep) {
    if (c != keep) {
      c.close();
    }
  }

  /**
   * {@code x} with the unit's prologue applied row by row: a new cache, or {@code x} itself when
   * the prologue is the identity.
   */
  private ActivationCache prologue(Unit u, ActivationCache x) {
    Var first = Var.constant(x.rows(0, Math.min(x.rows(), Batches.EVAL_BATCH)));
    if (u.prologue(Graph.inference(k), first) == first) {
      return x;
    }
    return Batches.map(store, x, v -> u.prologue(Graph.inference(k), v));
  }

  /**
   * Layer units in network order (the AdaRound baseline, §4.3, and BRECQ's and QDrop's layer
   * granularity, §4.4): each layer with the activation function after it, against the FP
   * network's layer output, from the input the layer receives in the quantized network
   * ({@code ctx}, with the layers before it already done), or in the FP network for BRECQ's
   * activation phase (which caches FP inputs). BRECQ and AdaRound leave the first layer (§5);
   * the activation phase skips layers without an output site of their own.
   *
   * @param ownSites give each layer unit its own output site (BRECQ, QDrop; not AdaRound)
   * @param mixFp QDrop: mix the FP layer input into the quantized one
   */
  private void layerwise(ActivationCache calib, Phase phase, QuantContext ctx, boolean ownSites,
      boolean mixFp) {
    boolean fromFp = phase == Phase.ACTIVATIONS;
    boolean keepFirst = phase != Phase.JOINT;
    ActivationCache fpIn = calib;
    ActivationCache qIn = calib;
    List<Unit> units = model.units();
    int count = model.layers().size();
    int index = 0;
    for (Unit u : units) {
      Map<Layer, ActivationCache> fpInputs = captureLayerInputs(u, fpIn, ForwardContext.FP, null);
      for (Layer l : u.layers()) {
        String site = ownSites ? ownOutputSite(units, l) : null;
        if (keepFirst && l == firstLayer()) {
          if (!fromFp && !alreadyDone()) {
            skipped(UnitRecord.skipped(l.name(), phase.label, FIRST_LAYER_SKIPPED));
          }
          index++;
          continue;
        }
        if (fromFp && site == null) {
          index++;
          continue;
        }
        LayerUnit lu = new LayerUnit(l, u.activationAfter(l), site);
        ActivationCache fpLayerIn = fpInputs.get(l);
        ActivationCache target = runUnit(lu, fpLayerIn, ForwardContext.FP);
        ActivationCache in = fromFp ? fpLayerIn : captureLayerInputs(u, qIn, ctx, l).get(l);
        optimize(index, count, lu, phase, in, mixFp ? fpLayerIn : null, target, ctx);
        if (!fromFp) {
          in.close();
        }
        target.close();
        index++;
      }
      for (ActivationCache c : fpInputs.values()) {
        release(c, fpIn);
      }
      ActivationCache fpOut = runUnit(u, fpIn, ForwardContext.FP);
      ActivationCache qOut = fromFp ? null : runUnit(u, qIn, ctx);
      if (!fromFp) {
        release(qIn, calib);
        qIn = qOut;
      }
      release(fpIn, calib);
      fpIn = fpOut;
    }
    release(qIn, calib);
    release(fpIn, calib);
  }

  // ------------------------------------------------------------------ the optimisation loop
  /**
   * Reconstructs one unit in {@code phase}, which decides what is learned, the loss, the sampler
   * and the stream; the loop is {@link UnitOptimizer}'s.
   *
   * @param index the unit's position in its sweep (addresses its streams)
   * @param count units in the sweep
   * @param qIn cached quantized inputs (rows = calibration images)
   * @param fpIn cached FP inputs to mix with (QDrop), or null for no input mixing
   * @param target cached FP outputs of the unit
   * @param ctx0 the forward context (QDrop's dropping is added per iteration)
   */
  private void optimize(int index, int count, Unit unit, Phase phase, ActivationCache qIn,
      ActivationCache fpIn, ActivationCache target, QuantContext ctx0) {
    if (alreadyDone()) {
      return;
    }
    // the unit's input as its first layer sees it (a head's pooled features), computed once:
    // that is what the references cache, and what QDrop mixes
    ActivationCache q = prologue(unit, qIn);
    ActivationCache f = fpIn == null ? null : prologue(unit, fpIn);
    ActivationCache fisher = null;
    try {
      if (phase.fisherLoss(cfg)) {
        listener.stage("Fisher weights of " + unit.name() + " (KL gradient at its output)");
        fisher = FisherWeights.compute(k, store, model, unit, lastModelUnit(unit), q, ctx0,
            fpLogits, cfg.batchSize());
      }
      optimizeCached(index, count, unit, phase, q, f, target, fisher, ctx0);
    } finally {
      release(q, qIn);
      if (f != null) {
        release(f, fpIn);
      }
      if (fisher != null) {
        fisher.close();
      }
    }
  }

  /**
   * {@link #optimize} on inputs to which the unit's prologue has been applied; {@code fisher}
   * holds the Fisher factors of the unit's output ({@code --loss fisher-diag}) or is null.
   */
  private void optimizeCached(int index, int count, Unit unit, Phase phase, ActivationCache qIn,
      ActivationCache fpIn, ActivationCache target, ActivationCache fisher, QuantContext ctx0) {
    int iters = phase.iterations(cfg);
    double lossP = phase.lossExponent(cfg);
    long t0 = System.nanoTime();
    listener.unitStart(index, count, unit.name(), phase.label, iters);
    Tensor probeIn = qIn.rows(0, Math.min(LOSS_PROBE, qIn.rows()));
    Tensor probeTarget = target.rows(0, Math.min(LOSS_PROBE, target.rows()));
    Tensor probeFisher = fisher == null ? null
        : fisher.rows(0, Math.min(LOSS_PROBE, fisher.rows()));
    double before = probeLoss(unit, probeIn, probeTarget, probeFisher, ctx0, lossP);
    requireFiniteLoss(unit, phase, "before reconstruction", before);

    List<WeightQuantizer.AdaRoundSoft> rounders = phase.learnsRounding() ? softRounding(unit)
        : List.of();
    List<Var> steps = phase.learnsSteps(cfg) ? activationSteps(unit) : List.of();
    int ran = optimizer(index, unit, phase, rounders, steps, fpIn, ctx0).run(qIn, target, fisher);
    harden(unit, phase, rounders, ran);
    QuantContext after = ctx0;
    double afterLoss = probeLoss(unit, probeIn, probeTarget, probeFisher, after, lossP);
    requireFiniteLoss(unit, phase, "after reconstruction", afterLoss);
    UnitRecord rec = new UnitRecord(unit.name(), phase.label, ran, before, afterLoss,
        (System.nanoTime() - t0) / 1e9);
    listener.unitEnd(rec);
    unitDone(rec);
  }

  /**
   * The unit optimiser of {@code phase} for {@code unit}: its settings, the loss check and
   * progress, and QDrop's dropping (per iteration) and input mixing (when {@code fpIn} is set).
   */
  private UnitOptimizer optimizer(int index, Unit unit, Phase phase,
      List<WeightQuantizer.AdaRoundSoft> rounders, List<Var> steps, ActivationCache fpIn,
      QuantContext ctx0) {
    int iters = phase.iterations(cfg);
    UnitOptimizer opt = new UnitOptimizer(k, unit, settings(index, phase), rounders, steps, ctx0)
        .monitor(new UnitOptimizer.Monitor() {
          @Override
          public void checkLoss(int t, double loss) {
            requireFiniteLoss(unit, phase, "at iteration " + t + " of " + iters, loss);
          }

          @Override
          public void iteration(int t, double reconLoss, double roundLoss) {
            listener.iteration(t, iters, reconLoss + roundLoss, reconLoss, roundLoss);
          }
        });
    if (phase.qdropSampling() && cfg.quantizeActivations() && cfg.keepProb() < 1f) {
      opt.contextPerIteration(t -> ctx0.withDrop(new Dropping(cfg.seed(), index, t,
          cfg.keepProb()), unit.actSites()));
    }
    if (fpIn != null) {
      long site = QDropMask.site(index, 0);
      // QDropMask.mix's values: elementwise, counter = flat index
      opt.mixing(fpIn, (x, xFp, t) -> k.qdropMix(x, x, xFp, x.length,
          QDropMask.prefix(cfg.seed(), site, t), cfg.keepProb()));
    }
    return opt;
  }

  /** Checks the learned rounding variables and fixes the rounding (hard, §3). */
  private void harden(Unit unit, Phase phase, List<WeightQuantizer.AdaRoundSoft> rounders,
      int ran) {
    for (WeightQuantizer.AdaRoundSoft r : rounders) {
      float[] a = r.alpha().value().data();
      int bad = Check.firstNonFinite(a);
      Check.state(bad < 0, "unit %s (%s): layer %s: rounding variable %d is %s after %d "
          + "iteration(s)", unit.name(), phase.label, r.layer().name(), bad,
          bad < 0 ? "" : Check.describe(a[bad]), ran);
      state.setWeight(r.layer(), r.harden());
    }
  }

  /** The loop settings of {@code phase} for the unit at {@code index} (stream index · 8 + id). */
  private UnitOptimizer.Settings settings(int index, Phase phase) {
    return new UnitOptimizer.Settings(phase.iterations(cfg), cfg.batchSize(),
        phase.qdropSampling() ? UnitOptimizer.Sampling.WITH_REPLACEMENT
            : UnitOptimizer.Sampling.WITHOUT_REPLACEMENT,
        cfg.seed(), (long) index * 8 + phase.streamId, phase.lossExponent(cfg), cfg.roundLambda(),
        cfg.warmup(), cfg.lrAlpha(),
        cfg.method() == Method.QDROP ? cfg.lrActQdrop() : cfg.lrActBrecq());
  }

  /** Replaces the weight quantizer of each layer of {@code unit} by soft rounding (AdaRound). */
  private List<WeightQuantizer.AdaRoundSoft> softRounding(Unit unit) {
    List<WeightQuantizer.AdaRoundSoft> rounders = new ArrayList<>();
    for (Layer l : unit.layers()) {
      WeightQuantizer.AdaRoundSoft r = WeightQuantizer.AdaRoundSoft.init(l,
          state.weight(l.name()).params());
      state.setWeight(l, r);
      rounders.add(r);
    }
    return rounders;
  }

  /** The steps of the activation quantizers at {@code unit}'s sites that have one. */
  private List<Var> activationSteps(Unit unit) {
    List<Var> steps = new ArrayList<>();
    for (String s : unit.actSites()) {
      if (state.act(s) != null) {
        steps.add(state.act(s).scale());
      }
    }
    return steps;
  }

  /**
   * Stops the run when a reconstruction loss is NaN or infinite, naming the unit, the phase and
   * when (the units finished before it stay in the run's checkpoints).
   */
  private void requireFiniteLoss(Unit unit, Phase phase, String when, double loss) {
    Check.state(Double.isFinite(loss), "unit %s (%s): reconstruction loss is %s %s; "
        + "%d unit(s) finished before it", unit.name(), phase.label, Check.describe(loss), when,
        records.size());
  }

  private double probeLoss(Unit unit, Tensor in, Tensor target, Tensor fisher, QuantContext ctx,
      double p) {
    Var out = unit.forward(Graph.inference(k), Var.constant(in), ctx);
    return (fisher == null ? Functions.reconLoss(Graph.inference(k), out, target, p)
        : Functions.fisherDiagLoss(Graph.inference(k), out, target, fisher)).value().item();
  }

  // ------------------------------------------------------------------ cache passes
  private ActivationCache runUnit(Unit u, ActivationCache in, ForwardContext ctx) {
    return Batches.map(store, in, x -> u.forward(Graph.inference(k), x, ctx));
  }

  /**
   * The input that each layer of {@code u} (or only {@code only}, when not null) receives, over
   * all rows of {@code in}, one cache per layer in execution order.
   */
  private Map<Layer, ActivationCache> captureLayerInputs(Unit u, ActivationCache in,
      ForwardContext base, Layer only) {
    Map<Layer, ActivationCache> out = new LinkedHashMap<>();
    int[] at = {0};
    ForwardContext ctx = base.withLayerInputs((layer, x) -> {
      if (only != null && layer != only) {
        return;
      }
      Tensor v = x.value();
      ActivationCache c = out.get(layer);
      if (c == null) {
        int[] s = v.shape();
        c = store.allocate(in.rows(), java.util.Arrays.copyOfRange(s, 1, s.length));
        out.put(layer, c);
      }
      c.write(at[0], v);
    });
    try {
      for (int from = 0; from < in.rows(); from += Batches.EVAL_BATCH) {
        int to = Math.min(in.rows(), from + Batches.EVAL_BATCH);
        at[0] = from;
        u.forward(Graph.inference(k), Var.constant(in.rows(from, to)), ctx);
      }
    } catch (RuntimeException | Error e) {
      for (ActivationCache c : out.values()) {
        c.close();
      }
      throw e;
    }
    return out;
  }
}
