package org.qlimit.recon;

import java.util.List;
import java.util.Locale;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * What a reconstruction run needs in memory, estimated before it starts, in bytes.
 *
 * <p>{@code caches}: the largest set of cached unit inputs and outputs (one float row per
 * calibration image) that {@link Reconstructor} holds at one time, from the activation shapes of
 * one image: QDrop and BRECQ's weight phase hold the FP and quantized inputs of a unit, its FP
 * output and then its quantized output (and the pooled copies of a head's inputs); BRECQ's
 * activation phase the FP input and output; layer-wise AdaRound a unit's inputs, every layer's
 * FP input, and one layer's quantized input and target; RTN none. These are what may move to a
 * memory-mapped file ({@link CacheStore}). The calibration images themselves stay in the heap and
 * count as {@code data}.
 *
 * <p>{@code model}: 4 × 4 bytes per parameter (FP weights, quantizer, rounding variables, Adam
 * moments). {@code data}: what the caller passes (decoded data sets, calibration images).
 * {@code working}: the largest transient buffers of one step: 6 copies of a training minibatch's
 * activations inside a unit (values, gradients, quantized and mixed copies), 2 copies of a
 * cache-pass or evaluation batch (100 images), 3 of the loss probe (256 images), or 2 of the
 * activation-calibration pass (64 images, QDrop 256; none without quantized activations). All are
 * estimates, not bounds: the Java heap also needs room for garbage collection, hence
 * {@link #margin}.
 *
 * @param images calibration images
 * @param cachePerImage peak cache bytes per calibration image
 * @param peakUnit the unit at which the caches peak (null when there are none)
 * @param model model bytes
 * @param data data bytes
 * @param working working-buffer bytes
 */
public record MemoryEstimate(int images, long cachePerImage, String peakUnit, long model,
    long data, long working) {

  private static final int TRAIN_COPIES = 6;
  private static final int EVAL_COPIES = 2;
  /** Images per batch when the command line evaluates top-1. */
  private static final int EVAL_IMAGES = 100;
  private static final int PROBE_IMAGES = 256;
  private static final int PROBE_COPIES = 3;
  private static final int MODEL_COPIES = 4;
  /** Smallest heap margin: 64 MiB. */
  public static final long MIN_MARGIN = 64L << 20;

  /** Peak cache bytes: cachePerImage × images. */
  public long caches() {
    return cachePerImage * images;
  }

  /** Everything that stays in the heap whatever the cache store: model + data + working. */
  public long heapBesidesCaches() {
    return model + data + working;
  }

  /** The whole estimate: caches + model + data + working. */
  public long total() {
    return caches() + heapBesidesCaches();
  }

  /**
   * Heap kept free for the garbage collector and for what the estimate leaves out: a fifth of the
   * heap, at least {@link #MIN_MARGIN}.
   */
  public static long margin(long maxHeap) {
    return Math.max(MIN_MARGIN, maxHeap / 5);
  }

  /**
   * True when the caches fit in a heap of {@code maxHeap} bytes ({@link Runtime#maxMemory}):
   * total() + margin(maxHeap) ≤ maxHeap.
   */
  public boolean cachesFitHeap(long maxHeap) {
    return total() + margin(maxHeap) <= maxHeap;
  }

  /**
   * The estimate for running {@code cfg} on {@code images} calibration images of {@code model},
   * with {@code dataBytes} of data held by the caller. Runs one zero image through the FP model
   * to learn the activation shapes (no other work).
   */
  public static MemoryEstimate of(Model model, ReconConfig cfg, int images, long dataBytes,
      Kernels k) {
    Check.arg(images >= 1, "no calibration images");
    int[] in = model.inputShape();
    Var x = Var.constant(Tensor.zeros(1, in[0], in[1], in[2]));
    List<Unit> units = model.units();
    long peak = 0;
    String peakUnit = null;
    long work = 0;
    long params = 0;
    for (Var p : model.parameters()) {
      params += p.value().numel();
    }
    long maxUnitActs = 0;
    for (int i = 0; i < units.size(); i++) {
      Unit u = units.get(i);
      Shapes s = shapes(k, u, x);
      long unitIn = x.value().numel();
      long unitOut = s.out.value().numel();
      long pro = s.prologueIdentity ? 0 : s.prologue;
      long inputs = i == 0 ? 0 : 2 * unitIn; // unit 0 reads the calibration images (data)
      long perImage = switch (cfg.method()) {
        case RTN -> 0;
        case QDROP -> inputs + unitOut + Math.max(2 * pro, unitOut);
        case BRECQ -> Math.max(inputs + unitOut + Math.max(pro, unitOut),
            cfg.quantizeActivations() ? inputs / 2 + unitOut + pro : 0);
        case ADAROUND -> inputs + Math.max(s.layerInSum + s.layerPairMax, 2 * unitOut);
      };
      if (perImage > peak) {
        peak = perImage;
        peakUnit = u.name();
      }
      long acts = unitIn + s.layerInSum + s.layerOutSum + unitOut;
      maxUnitActs = Math.max(maxUnitActs, acts);
      if (cfg.method() != Method.RTN) {
        work = Math.max(work, (long) Math.min(cfg.batchSize(), images) * TRAIN_COPIES * acts);
        work = Math.max(work, (long) Math.min(PROBE_IMAGES, images) * PROBE_COPIES
            * (unitIn + unitOut));
      }
      x = s.out;
    }
    work = Math.max(work, (long) Math.max(Batches.EVAL_BATCH, EVAL_IMAGES) * EVAL_COPIES
        * maxUnitActs);
    if (cfg.quantizeActivations()) {
      int actImages = Math.min(images, cfg.method() == Method.QDROP ? cfg.qdropActImages()
          : cfg.brecqActImages());
      work = Math.max(work, (long) actImages * EVAL_COPIES * maxUnitActs);
    }
    return new MemoryEstimate(images, peak * Float.BYTES, peakUnit,
        params * Float.BYTES * MODEL_COPIES, dataBytes, work * Float.BYTES);
  }

  /** Per-image activation sizes (floats) of one unit. */
  private static final class Shapes {
    Var out;
    long prologue;
    boolean prologueIdentity;
    long layerInSum;
    long layerOutSum;
    long layerPairMax;
  }

  private static Shapes shapes(Kernels k, Unit u, Var x) {
    Shapes s = new Shapes();
    java.util.List<Layer> layers = new java.util.ArrayList<>();
    java.util.List<Var> inputs = new java.util.ArrayList<>();
    ForwardContext ctx = ForwardContext.FP.withLayerInputs((layer, v) -> {
      layers.add(layer);
      inputs.add(v);
    });
    s.out = u.forward(Graph.inference(k), x, ctx);
    Var p = u.prologue(Graph.inference(k), x);
    s.prologueIdentity = p == x;
    s.prologue = p.value().numel();
    for (int j = 0; j < layers.size(); j++) {
      Layer l = layers.get(j);
      long lin = inputs.get(j).value().numel();
      long lout = new LayerUnit(l, u.activationAfter(l)).forward(Graph.inference(k),
          inputs.get(j), ForwardContext.FP).value().numel();
      s.layerInSum += lin;
      s.layerOutSum += lout;
      s.layerPairMax = Math.max(s.layerPairMax, lin + lout);
    }
    return s;
  }

  /**
   * A heap for which {@code need} bytes plus the margin of {@link #margin} fit, in whole 256 MiB,
   * as an -Xmx value ("2560m", "4g").
   */
  public static String suggestedHeap(long need) {
    long h = Math.max(need + MIN_MARGIN, need + need / 4);
    long quantum = 256L << 20;
    long mib = ((h + quantum - 1) / quantum) * 256;
    return mib % 1024 == 0 ? (mib / 1024) + "g" : mib + "m";
  }

  /** Bytes in binary units with one decimal: "512 B", "3.4 MiB", "1.2 GiB". */
  public static String bytes(long b) {
    if (b < 1024) {
      return b + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = b;
    int i = -1;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
  }

  /**
   * One line: "1.9 GiB = caches 1.6 GiB (327.5 KiB per calibration image × 5000, peak at
   * layer1.0) + model 1.1 MiB + data 27.9 MiB + working 61.3 MiB".
   */
  public String describe() {
    String c = caches() == 0 ? "caches none"
        : String.format(Locale.ROOT, "caches %s (%s per calibration image × %d, peak at %s)",
            bytes(caches()), bytes(cachePerImage), images, peakUnit);
    return String.format(Locale.ROOT, "%s = %s + model %s + data %s + working %s",
        bytes(total()), c, bytes(model), bytes(data), bytes(working));
  }
}
