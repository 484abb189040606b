package org.qlimit.recon;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.util.CounterRng;
import org.qlimit.util.Streams;

/**
 * QDrop's flatness argument made measurable (Wei et al., ICLR 2022, §3: a model reconstructed
 * with random dropping sits in a flatter region, so the perturbation that activation quantization
 * of unseen data causes costs less): the task loss and top-1 of a quantized model when its
 * quantized activations, or its quantized weights, are perturbed at random with growing
 * magnitude ε, in units of each quantizer's own step:
 *
 * <pre>
 *   activations: x' = Q(x) + ε · s_site · ξ       at every activation site with a quantizer
 *   weights:     W' = Ŵ   + ε · s_c   · ξ         per output channel c of every layer
 * </pre>
 * ξ uniform in [−1, 1), element-wise, from the counter-based generator addressed by (seed,
 * stream {@link Streams#FLATNESS_PROBE}, repeat and site or layer, element), so results do not
 * depend on batching or threads. For each ε the loss (mean cross-entropy with the labels) and
 * top-1 are averaged over {@code repeats} independent draws; ε = 0 is the model as quantized.
 */
public final class FlatnessProbe {
  private FlatnessProbe() {}

  /** What is perturbed. */
  public enum Target {
    ACTIVATIONS,
    WEIGHTS;

    public String cliName() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Parses activations, weights or both (case-insensitive) into a list. */
    public static List<Target> parseList(String s) {
      return switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "activations" -> List.of(ACTIVATIONS);
        case "weights" -> List.of(WEIGHTS);
        case "both" -> List.of(ACTIVATIONS, WEIGHTS);
        default -> throw new IllegalArgumentException(
            "unknown target '" + s + "'; choose one of activations, weights, both");
      };
    }
  }

  /**
   * One magnitude's result.
   *
   * @param loss mean over repeats of the mean cross-entropy (nats)
   * @param lossStd sample standard deviation of the repeats' losses (0 for one repeat)
   * @param top1 mean over repeats of the top-1 (%)
   */
  public record Point(Target target, double magnitude, double loss, double lossStd, double top1,
      int repeats) {}

  /**
   * Measures the loss under perturbation for each magnitude.
   *
   * @param model the folded FP model that {@code state} quantizes
   * @param images (N, C, H, W) normalized test images. Not modified.
   * @param labels N class labels. Not modified.
   * @param magnitudes ε values, each finite and ≥ 0
   * @param repeats draws per magnitude (≥ 1); ε = 0 is measured once
   * @throws IllegalArgumentException for a bad argument, naming it
   */
  public static List<Point> measure(Kernels k, Model model, QuantState state, Tensor images,
      int[] labels, Target target, double[] magnitudes, int repeats, long seed) {
    Check.arg(state.model() == model, "flatness probe: the quantization is of another model");
    Check.arg(images.rank() == 4 && images.dim(0) == labels.length && labels.length > 0,
        "flatness probe: %d labels for images %s", labels.length, images);
    Check.arg(repeats >= 1, "flatness probe: repeats must be >= 1, got %d", repeats);
    for (double e : magnitudes) {
      Check.arg(Double.isFinite(e) && e >= 0, "flatness probe: magnitude %s is not a finite "
          + "number >= 0", e);
    }
    List<Point> out = new ArrayList<>();
    for (double eps : magnitudes) {
      int reps = eps == 0 ? 1 : repeats;
      double[] loss = new double[reps];
      double[] top1 = new double[reps];
      for (int r = 0; r < reps; r++) {
        double[] lt = evaluate(k, model, state, images, labels, target, (float) eps, r, seed);
        loss[r] = lt[0];
        top1[r] = lt[1];
      }
      out.add(new Point(target, eps, mean(loss), std(loss), mean(top1), reps));
    }
    return out;
  }

  /** {mean cross-entropy, top-1 %} of one draw. */
  private static double[] evaluate(Kernels k, Model model, QuantState state, Tensor images,
      int[] labels, Target target, float eps, int repeat, long seed) {
    QuantContext base = QuantContext.full(state);
    Map<Layer, Var> weights = target == Target.WEIGHTS && eps > 0
        ? perturbedWeights(k, model, state, eps, repeat, seed) : Map.of();
    List<String> sites = model.actSites();
    int n = images.dim(0);
    double lossSum = 0;
    int correct = 0;
    for (int from = 0; from < n; from += Batches.EVAL_BATCH) {
      int to = Math.min(n, from + Batches.EVAL_BATCH);
      int first = from;
      ForwardContext ctx = new ForwardContext() {
        @Override
        public Var weight(Graph g, Layer layer) {
          Var w = weights.get(layer);
          return w != null ? w : base.weight(g, layer);
        }

        @Override
        public Var activation(Graph g, String site, Var x) {
          Var y = base.activation(g, site, x);
          ActQuantizer q = state.act(site);
          if (target != Target.ACTIVATIONS || eps == 0 || q == null) {
            return y;
          }
          Tensor v = y.value().contiguous();
          float[] d = v.data().clone();
          int row = d.length / (to - first);
          float amp = eps * q.params().scale(0);
          long prefix = CounterRng.prefix(seed, Streams.FLATNESS_PROBE.id(),
              ((long) repeat << 20) + sites.indexOf(site));
          for (int i = 0; i < d.length; i++) {
            long index = (long) first * row + i;
            d[i] += amp * (2f * CounterRng.uniformAt(prefix, index) - 1f);
          }
          return Var.constant(Tensor.of(d, v.shape()));
        }
      };
      Graph g = Graph.inference(k);
      Var z = model.forward(g, Var.constant(images.slice(from, to).contiguous()), ctx);
      int[] lab = java.util.Arrays.copyOfRange(labels, from, to);
      lossSum += (double) Functions.crossEntropy(g, z, lab).value().item() * (to - from);
      float[] zd = z.value().contiguous().data();
      int c = zd.length / (to - from);
      for (int i = 0; i < to - from; i++) {
        int best = 0;
        for (int j = 1; j < c; j++) {
          if (zd[i * c + j] > zd[i * c + best]) {
            best = j;
          }
        }
        correct += best == lab[i] ? 1 : 0;
      }
    }
    return new double[] {lossSum / n, 100.0 * correct / n};
  }

  /** Ŵ + ε·s_c·ξ for every layer, one draw. */
  private static Map<Layer, Var> perturbedWeights(Kernels k, Model model, QuantState state, float eps,
      int repeat, long seed) {
    Map<Layer, Var> out = new LinkedHashMap<>();
    List<Layer> layers = model.layers();
    for (int li = 0; li < layers.size(); li++) {
      Layer l = layers.get(li);
      WeightQuantizer wq = state.weight(l.name());
      Check.arg(wq != null, "flatness probe: layer %s has no quantized weight", l.name());
      Tensor w = wq.weight(Graph.inference(k)).value().contiguous();
      QParams p = wq.params();
      float[] d = w.data().clone();
      int cs = d.length / l.outChannels();
      long prefix = CounterRng.prefix(seed, Streams.FLATNESS_PROBE.id(),
          ((long) repeat << 20) + (1L << 19) + li);
      for (int i = 0; i < d.length; i++) {
        d[i] += eps * p.scale(i / cs) * (2f * CounterRng.uniformAt(prefix, i) - 1f);
      }
      out.put(l, Var.constant(Tensor.of(d, w.shape())));
    }
    return out;
  }

  private static double mean(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x;
    }
    return s / v.length;
  }

  private static double std(double[] v) {
    if (v.length < 2) {
      return 0;
    }
    double m = mean(v);
    double s = 0;
    for (double x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / (v.length - 1));
  }
}
