package org.qlimit.recon;

import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.quant.QParams;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * AdaRound of a single layer against its unit's output, every other weight of the unit fixed: the
 * weight phase of BRECQ (ALGORITHMS.md §3, §4.1) restricted to one layer. The mixed-precision
 * sensitivities use it to measure a layer at a width after reconstruction instead of after
 * nearest rounding.
 *
 * <p>The loop is {@link UnitOptimizer}'s: per iteration t = 1..T, a minibatch drawn without
 * replacement (the BRECQ sampler) from the stream {@code Streams.MINIBATCH.random(seed, stream)};
 * loss = reconLoss(unit(x), y, p = 2) plus, after the warm-up, λ · Σ (1 − |2h(α) − 1|^β) with β
 * annealed from 20 to 2; one Adam step on α. Then hard rounding. Everything runs on the given
 * kernels; with single-threaded kernels several layers can be reconstructed at once on different
 * threads (nothing shared is written: the other weights enter as constants).
 */
public final class LayerRounding {
  private LayerRounding() {}

  /**
   * @param iters AdaRound iterations T
   * @param batchSize minibatch size (32)
   * @param roundLambda weight λ of the rounding regulariser
   * @param warmup fraction of T before the regulariser starts
   * @param lr Adam learning rate of α
   * @param seed run seed of the minibatch stream
   */
  public record Settings(int iters, int batchSize, double roundLambda, double warmup, float lr,
      long seed) {
    public Settings {
      Check.arg(iters >= 1, "layer rounding: iterations must be >= 1, got %d", iters);
      Check.arg(batchSize >= 1, "layer rounding: batch size must be >= 1, got %d", batchSize);
      Check.arg(roundLambda >= 0, "layer rounding: λ must be >= 0, got %s", roundLambda);
      Check.arg(warmup >= 0 && warmup < 1, "layer rounding: warm-up must be in [0, 1)");
      Check.arg(lr > 0, "layer rounding: learning rate must be positive");
    }

    /** The reconstruction defaults of a run (batch, λ, warm-up, learning rate, seed). */
    public static Settings of(ReconConfig c, int iters) {
      return new Settings(iters, c.batchSize(), c.roundLambda(), c.warmup(), c.lrAlpha(),
          c.seed());
    }
  }

  /**
   * Learns the rounding of {@code layer} at {@code params} inside {@code unit}.
   *
   * @param in unit inputs, one row per calibration image
   * @param target FP unit outputs for those rows
   * @param others the other weights and the activation sites of the unit (weights are used as
   *     constants)
   * @param stream sub-stream of the minibatch sampler (distinct per measured item)
   * @return the hardened quantizer
   */
  public static WeightQuantizer.Fixed reconstruct(Kernels k, Unit unit, Layer layer,
      QParams params, Tensor in, Tensor target, ForwardContext others, Settings s, long stream) {
    Check.arg(unit.layers().contains(layer), "layer %s is not in unit %s", layer.name(),
        unit.name());
    Check.arg(in.dim(0) == target.dim(0), "%d inputs but %d targets", in.dim(0), target.dim(0));
    WeightQuantizer.AdaRoundSoft r = WeightQuantizer.AdaRoundSoft.init(layer, params);
    ForwardContext ctx = new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer l) {
        return l == layer ? r.weight(g) : Var.constant(others.weight(g, l).value());
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        return others.activation(g, site, x);
      }
    };
    UnitOptimizer.Settings loop = new UnitOptimizer.Settings(s.iters(), s.batchSize(),
        UnitOptimizer.Sampling.WITHOUT_REPLACEMENT, s.seed(), stream, 2.0, s.roundLambda(),
        s.warmup(), s.lr(), 0f);
    new UnitOptimizer(k, unit, loop, List.of(r), List.of(), ctx)
        .run(ActivationCache.of(in), ActivationCache.of(target), null);
    return r.harden();
  }
}
