package org.qlimit.mixed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.recon.BitWidths;
import org.qlimit.recon.LayerRounding;
import org.qlimit.recon.Method;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import org.qlimit.util.Parallel;

/**
 * Layer sensitivities for the mixed-precision search (ALGORITHMS.md §8), measured on the
 * calibration set, each block (unit) on its own FP input.
 *
 * <p>Error of a unit u under a partial weight quantization Q (the listed layers quantized, every
 * other layer FP, activations FP):
 * <pre>
 *   E_u(Q) = (1/M) Σ_{n, c, pos} F[n,c,pos] · (ŷ_Q[n,c,pos] − y[n,c,pos])²,   M = numel / C
 * </pre>
 * (the normalisation of {@code Functions.reconLoss}), y the FP output of the unit, and the Fisher
 * weight F = (|g| + 1)², g = ∂ CE(FP logits, label) / ∂ y per image (the gradient of the batch
 * mean multiplied by the batch size, so F does not depend on the batch size). The "+1" follows
 * the BRECQ reference (ALGORITHMS.md §4): the weight is the plain squared error plus the Fisher
 * emphasis; pure g² would let the few misclassified calibration images dominate. Cross-entropy
 * with the labels is used (not KL to a quantized net) because the sensitivities are measured
 * before any quantized network exists.
 *
 * <ul>
 *   <li>diagonal: diag[l][b] = E_u({l at b}) (the FP error is 0, so this is the increase);</li>
 *   <li>off-diagonal, layers l &lt; m of one unit: off[b][b'] = E_u({l at b, m at b'})
 *       − diag[l][b] − diag[m][b'].</li>
 * </ul>
 * This is the plain definition ({@link Options#PLAIN}): weights are quantized by nearest rounding
 * (per channel, asymmetric) after the method's range search (BRECQ: shrink-Lp; QDrop: grid-Lp),
 * not by AdaRound, so measuring is one forward pass per term, and activations are FP. {@link
 * Options} can quantize the activations, learn each layer's rounding first ({@link
 * LayerRounding}) or use F = g² ({@link Weighting#FISHER}). Pinned layers (first/last) are not
 * measured and stay FP while a unit is measured.
 * Terms are computed in parallel over independent (layer, width) items; each is a sum in fixed
 * order, so the result does not depend on the thread count.
 *
 * <p>A BERT-layout encoder (ALGORITHMS.md §11) is measured the same way, with the transformer
 * layer as the unit: its searched layers are query, key, value, attention output, intermediate
 * and output dense; the pooler and the classifier are pinned. A unit's output is a
 * {@code model.MaskedSequence} (N, L, H + 1), zero at padded positions and in the mask
 * column for every quantization, so padding adds nothing to E_u; M = numel / L, the
 * normalisation of {@code Functions.reconLoss} for these outputs. The gradients start at the
 * embeddings' output (token ids have none).
 *
 * @param bits candidate widths, ascending
 * @param layers searched layers, in execution order
 * @param units the unit of each searched layer
 * @param diag diag[i][c]
 * @param pairs intra-unit off-diagonal terms, layer pairs in order
 */
public record Sensitivity(int[] bits, List<String> layers, List<String> units, double[][] diag,
    List<PairTerm> pairs) {

  /** Off-diagonal term of layers i &lt; j (indices into {@code layers}): off[ci][cj]. */
  public record PairTerm(int i, int j, double[][] off) {}

  public Sensitivity {
    bits = bits.clone();
    layers = List.copyOf(layers);
    units = List.copyOf(units);
    pairs = List.copyOf(pairs);
    Check.arg(layers.size() == units.size() && layers.size() == diag.length,
        "sensitivity: %d layers, %d units, %d rows", layers.size(), units.size(), diag.length);
  }

  /** Images per forward/backward batch (rows are independent: any value gives the same bits). */
  static final int BATCH = 64;

  /**
   * Measures all terms.
   *
   * @param model folded FP model
   * @param method BRECQ or QDrop (selects the weight observer)
   * @param bits candidate widths (ascending, 2..8)
   * @param calib calibration images (N, C, H, W), or for a sequence model the token ids (N, L) of
   *     the calibration sentences, padded with [PAD]
   * @param labels their labels
   * @param numerics threads = parallel items; kernels run single-threaded inside an item
   */
  public static Sensitivity measure(Model model, Method method, int[] bits, Tensor calib,
      int[] labels, NumericsConfig numerics) {
    return measure(model, method, bits, 32, calib, labels, numerics);
  }

  /**
   * How the terms are measured beyond the plain definition of the class comment.
   *
   * @param abits activation bits of the measurement (2..8), or 32 for FP activations. With
   *     quantized activations each term is an increase over the unit's error with its activations
   *     alone quantized (weights FP), base_u:
   *     <pre>
   *   diag[l][b]     = E_u({l at b}) − base_u
   *   off[b][b']     = E_u({l at b, m at b'}) − base_u − diag[l][b] − diag[m][b']
   *     </pre>
   *     Activation ranges come from the method's activation observer (BRECQ: shrink-Lp; QDrop:
   *     grid-Lp) on the FP activations of the first {@link #ACT_IMAGES} calibration images, per
   *     site, with the bit rules of {@link BitWidths#actBits}, and stay fixed (no LSQ).
   * @param rounding null: nearest rounding. Otherwise each (layer, width) is measured after
   *     {@link LayerRounding} (AdaRound of that layer alone against the unit's FP output, on the
   *     unit's FP inputs, the rest of the unit FP, activations as above), and the pair terms
   *     combine the two layers' reconstructed roundings (no joint optimization).
   */
  public record Options(int abits, LayerRounding.Settings rounding, Weighting weighting) {
    public Options {
      Check.arg((abits >= 2 && abits <= 8) || abits == 32,
          "activation bits must be in 2..8 or 32, got %d", abits);
      Check.arg(weighting != null, "sensitivity weighting is null");
    }

    public Options(int abits, LayerRounding.Settings rounding) {
      this(abits, rounding, Weighting.PLUS_ONE);
    }

    /** The plain definition: FP activations, nearest rounding, F = (|g| + 1)². */
    public static final Options PLAIN = new Options(32, null);

    /** A stable description of the options, for the cache key and the logs. */
    public String describe() {
      String a = (weighting == Weighting.PLUS_ONE ? "" : "F = g^2, ")
          + (abits == 32 ? "acts FP" : "acts " + abits + " bits");
      if (rounding == null) {
        return a + ", nearest rounding";
      }
      return String.format(java.util.Locale.ROOT,
          "%s, AdaRound per layer (iters %d, batch %d, lambda %s, warm-up %s, lr %s, seed %d)",
          a, rounding.iters(), rounding.batchSize(), rounding.roundLambda(), rounding.warmup(),
          rounding.lr(), rounding.seed());
    }
  }

  /** The per-element weight F of the block error. */
  public enum Weighting {
    /**
     * F = (|g| + 1)²: BRECQ's reconstruction weight (squared error plus Fisher emphasis). Within
     * a block it ranks errors well; across blocks it compares plain output errors, whatever
     * their effect on the loss.
     */
    PLUS_ONE,
    /**
     * F = g²: the diagonal Fisher approximation of the loss increase, ΔL ≈ ½ Σ g² Δy² per
     * image, so that terms of different blocks are in the same unit (the loss).
     */
    FISHER
  }

  /**
   * Measures all terms with activations at {@code abits} (32 = FP), nearest rounding and
   * F = (|g| + 1)² (see {@link Options}).
   */
  public static Sensitivity measure(Model model, Method method, int[] bits, int abits,
      Tensor calib, int[] labels, NumericsConfig numerics) {
    return measure(model, method, bits, new Options(abits, null), calib, labels, numerics);
  }

  /** Measures all terms as {@code opt} says. */
  public static Sensitivity measure(Model model, Method method, int[] bits, Options opt,
      Tensor calib, int[] labels, NumericsConfig numerics) {
    Check.arg(opt != null, "sensitivity options are null");
    int abits = opt.abits();
    Check.arg(calib.dim(0) == labels.length, "%d calibration images but %d labels",
        calib.dim(0), labels.length);
    for (int c = 0; c < bits.length; c++) {
      Check.arg(bits[c] >= 2 && bits[c] <= 8 && (c == 0 || bits[c] > bits[c - 1]),
          "candidate widths must be ascending, in 2..8: %s", Arrays.toString(bits));
    }
    Kernels k = Kernels.of(numerics);
    Kernels k1 = Kernels.of(new NumericsConfig(numerics.vectorBits(), 1));
    List<Unit> units = model.units();

    // FP outputs of every unit and their Fisher weights.
    Tensor[] fpOut = new Tensor[units.size()];
    Tensor[] fisher = new Tensor[units.size()];
    fisherPass(model, k, calib, labels, fpOut, fisher, opt.weighting());
    int actInputs = model.inputShape().length == 1 ? ACT_SENTENCES : ACT_IMAGES;
    Map<String, ActQuantizer> acts = abits == 32 ? Map.of()
        : actQuantizers(model, method, abits, calib.slice(0, Math.min(actInputs, calib.dim(0)))
            .contiguous(), k);
    // Items: the searched layers, grouped by unit.
    List<String> names = new ArrayList<>();
    List<String> unitNames = new ArrayList<>();
    List<Layer> layerList = new ArrayList<>();
    List<Integer> unitIndex = new ArrayList<>();
    for (int u = 0; u < units.size(); u++) {
      for (Layer l : units.get(u).layers()) {
        if (!BitWidths.pinned(model, l)) {
          names.add(l.name());
          unitNames.add(units.get(u).name());
          layerList.add(l);
          unitIndex.add(u);
        }
      }
    }
    // The activation-only error of each unit that holds searched layers (0 with FP activations).
    double[] base = new double[units.size()];
    if (!acts.isEmpty()) {
      int[] searched = unitIndex.stream().mapToInt(Integer::intValue).distinct().toArray();
      Parallel.forEach(numerics.threads(), searched.length, i -> {
        int u = searched[i];
        base[u] = error(k1, units.get(u), u == 0 ? calib : fpOut[u - 1], fpOut[u], fisher[u],
            Map.of(), acts);
      });
    }
    int n = names.size();
    int nb = bits.length;
    WeightQuantizer.Fixed[][] quant = new WeightQuantizer.Fixed[n][nb];
    double[][] diag = new double[n][nb];
    Parallel.forEach(numerics.threads(), n * nb, t -> {
      int i = t / nb;
      int c = t % nb;
      Layer l = layerList.get(i);
      QScheme s = QScheme.asymmetric(bits[c]);
      QParams p = Reconstructor.observeWeight(k1, method, l, s);
      int u = unitIndex.get(i);
      Tensor in = u == 0 ? calib : fpOut[u - 1];
      quant[i][c] = opt.rounding() == null ? WeightQuantizer.Fixed.nearest(l, p)
          : LayerRounding.reconstruct(k1, units.get(u), l, p, in, fpOut[u],
              context(Map.of(), acts), opt.rounding(), t);
      Map<Layer, WeightQuantizer.Fixed> q = new LinkedHashMap<>();
      q.put(l, quant[i][c]);
      diag[i][c] = error(k1, units.get(u), in, fpOut[u], fisher[u], q, acts) - base[u];
    });
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < nb; c++) {
        Check.state(Double.isFinite(diag[i][c]), "sensitivity of layer %s (unit %s) at %d bits "
            + "is %s", names.get(i), unitNames.get(i), bits[c], Check.describe(diag[i][c]));
      }
    }

    List<int[]> pairIdx = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        if (unitIndex.get(i).equals(unitIndex.get(j))) {
          pairIdx.add(new int[] {i, j});
        }
      }
    }
    double[][][] off = new double[pairIdx.size()][nb][nb];
    Parallel.forEach(numerics.threads(), pairIdx.size() * nb * nb, t -> {
      int p = t / (nb * nb);
      int ci = (t / nb) % nb;
      int cj = t % nb;
      int i = pairIdx.get(p)[0];
      int j = pairIdx.get(p)[1];
      int u = unitIndex.get(i);
      Map<Layer, WeightQuantizer.Fixed> q = new LinkedHashMap<>();
      q.put(layerList.get(i), quant[i][ci]);
      q.put(layerList.get(j), quant[j][cj]);
      double joint = error(k1, units.get(u), u == 0 ? calib : fpOut[u - 1], fpOut[u], fisher[u],
          q, acts);
      off[p][ci][cj] = joint - base[u] - diag[i][ci] - diag[j][cj];
    });
    List<PairTerm> pairs = new ArrayList<>();
    for (int p = 0; p < pairIdx.size(); p++) {
      int i = pairIdx.get(p)[0];
      int j = pairIdx.get(p)[1];
      for (int ci = 0; ci < nb; ci++) {
        for (int cj = 0; cj < nb; cj++) {
          Check.state(Double.isFinite(off[p][ci][cj]), "sensitivity of layers %s and %s (unit "
              + "%s) at %d and %d bits is %s", names.get(i), names.get(j), unitNames.get(i),
              bits[ci], bits[cj], Check.describe(off[p][ci][cj]));
        }
      }
      pairs.add(new PairTerm(pairIdx.get(p)[0], pairIdx.get(p)[1], off[p]));
    }
    return new Sensitivity(bits, names, unitNames, diag, pairs);
  }

  /**
   * One FP forward + backward per batch of the whole network: records each unit's output and
   * F = (|g| + 1)² (or g² with {@link Weighting#FISHER}) with g the per-image gradient of the
   * cross-entropy w.r.t. that output.
   * (Modified: fpOut, fisher.)
   */
  static void fisherPass(Model model, Kernels k, Tensor calib, int[] labels, Tensor[] fpOut,
      Tensor[] fisher, Weighting weighting) {
    boolean plusOne = weighting == Weighting.PLUS_ONE;
    List<Unit> units = model.units();
    int n = calib.dim(0);
    for (int from = 0; from < n; from += BATCH) {
      int to = Math.min(n, from + BATCH);
      int b = to - from;
      Graph g = Graph.training(k);
      Var[] outs = new Var[units.size()];
      Tensor x = calib.slice(from, to).contiguous();
      int first = 0;
      Var h;
      if (model.inputShape().length == 1) {
        // Token ids carry no gradient: the first unit (BERT's embeddings, no searched layer)
        // runs outside the graph and its output is the leaf.
        h = Var.param("embeddings", units.get(0).forward(Graph.inference(k), Var.constant(x),
            ForwardContext.FP).value());
        outs[0] = h;
        first = 1;
      } else {
        // The input is a "parameter" only so that every intermediate records its gradient.
        h = Var.param("input", x);
      }
      for (int u = first; u < units.size(); u++) {
        h = units.get(u).forward(g, h, ForwardContext.FP);
        outs[u] = h;
      }
      Var loss = Functions.crossEntropy(g, h, Arrays.copyOfRange(labels, from, to));
      g.backward(loss);
      for (int u = 0; u < units.size(); u++) {
        Tensor y = outs[u].value().contiguous();
        float[] gr = outs[u].grad().contiguous().data();
        if (fpOut[u] == null) {
          int[] s = y.shape();
          s[0] = n;
          fpOut[u] = Tensor.zeros(s);
          fisher[u] = Tensor.zeros(s);
        }
        int row = y.numel() / b;
        System.arraycopy(y.data(), 0, fpOut[u].data(), from * row, b * row);
        float[] f = fisher[u].data();
        for (int e = 0; e < b * row; e++) {
          float a = plusOne ? Math.abs(gr[e] * b) + 1f : gr[e] * b;
          f[from * row + e] = a * a;
        }
      }
    }
  }

  /** Images whose FP activations set the activation ranges of {@link #measure}. */
  static final int ACT_IMAGES = 256;

  /**
   * Sentences whose FP activations set the activation ranges of {@link #measure} for a sequence
   * model: the first 64, as QDrop's activation range search on BERT (ALGORITHMS.md §11).
   */
  static final int ACT_SENTENCES = 64;

  /**
   * One quantizer per activation site, from the method's observer on the FP activations of
   * {@code images} (weights FP).
   */
  static Map<String, ActQuantizer> actQuantizers(Model model, Method method, int abits,
      Tensor images, Kernels k) {
    Map<String, ActQuantizer> found = new LinkedHashMap<>();
    Reconstructor.fpActivationRanges(k, model, method, abits, images)
        .forEach((site, p) -> found.put(site, ActQuantizer.fixed(site, p)));
    return found;
  }

  /** The weights of {@code q} (other layers FP); activation sites quantized by {@code acts}. */
  private static ForwardContext context(Map<Layer, WeightQuantizer.Fixed> q,
      Map<String, ActQuantizer> acts) {
    return new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        WeightQuantizer.Fixed f = q.get(layer);
        return f == null ? layer.weight() : f.weight(g);
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        ActQuantizer a = acts.get(site);
        return a == null ? x : a.apply(g, x, null, 1f);
      }
    };
  }

  /** E_u(Q) of the class Javadoc, summed in double in index order, batch by batch. */
  static double error(Kernels k, Unit unit, Tensor in, Tensor target, Tensor fisher,
      Map<Layer, WeightQuantizer.Fixed> q, Map<String, ActQuantizer> acts) {
    ForwardContext ctx = context(q, acts);
    int n = in.dim(0);
    int row = target.numel() / n;
    float[] t = target.data();
    float[] f = fisher.data();
    double acc = 0;
    for (int from = 0; from < n; from += BATCH) {
      int to = Math.min(n, from + BATCH);
      Tensor y = unit.forward(Graph.inference(k), Var.constant(in.slice(from, to).contiguous()),
          ctx).value().contiguous();
      float[] yd = y.data();
      int base = from * row;
      for (int e = 0; e < yd.length; e++) {
        double d = (double) yd[e] - t[base + e];
        acc += f[base + e] * d * d;
      }
    }
    int channels = target.dim(1);
    return acc / ((double) target.numel() / channels);
  }
}
