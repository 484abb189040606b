package org.qlimit.recon;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Unit;
import org.qlimit.optim.Adam;
import org.qlimit.optim.Schedules;
import org.qlimit.quant.AdaRound;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Streams;

/**
 * The optimisation loop of one reconstruction unit (ALGORITHMS.md §3, §4), the one copy shared by
 * every method and phase of {@link Reconstructor} and by {@link LayerRounding}.
 *
 * <p>Per iteration t = 1..T: minibatch indices from the stream
 * {@code Streams.MINIBATCH.random(seed, stream)} (BRECQ: the first entries of a fresh
 * permutation; QDrop: uniform with replacement); the unit's cached input rows, mixed
 * element-wise with the FP input rows when {@link #mixing} is set (QDrop); the unit's forward
 * pass in the context of iteration t (QDrop adds its dropping there); loss = reconLoss(ŷ, y, p)
 * (or the Fisher-weighted loss when Fisher factors are given) plus, once the warm-up is over,
 * the rounding regulariser of every soft-rounded layer with β annealed from 20 to 2; backward;
 * one Adam step on the rounding variables α (constant learning rate) and one on the activation
 * steps (cosine-decayed learning rate). The caller hardens the rounding after {@link #run}.
 * Everything is a function of the inputs, the settings and (seed, stream, t), so the bits do
 * not depend on threads or vector width.
 */
final class UnitOptimizer {
  /** How minibatch indices are drawn (§4). */
  enum Sampling {
    /** BRECQ: the first {@code batch} entries of a fresh random permutation (no repeats). */
    WITHOUT_REPLACEMENT,
    /** QDrop: {@code batch} indices uniform in [0, n), with replacement. */
    WITH_REPLACEMENT
  }

  /**
   * The loop's settings.
   *
   * @param iters iterations T
   * @param batchSize minibatch size (capped at the number of cached rows)
   * @param sampling how minibatch indices are drawn
   * @param seed run seed of the minibatch stream
   * @param stream sub-stream of the minibatch stream (distinct per unit and phase)
   * @param lossP exponent p of the reconstruction loss |ŷ − y|^p (unused with Fisher factors)
   * @param roundLambda weight λ of the rounding regulariser
   * @param warmup fraction of T before the regulariser starts
   * @param lrAlpha Adam learning rate of the rounding variables (constant)
   * @param lrSteps Adam learning rate of the activation steps at t = 1 (cosine decay to 0 at T)
   */
  record Settings(int iters, int batchSize, Sampling sampling, long seed, long stream,
      double lossP, double roundLambda, double warmup, float lrAlpha, float lrSteps) {}

  /** Element-wise mixing of a minibatch's quantized input with its FP input (QDrop, §4.2). */
  interface Mixing {
    /** Overwrites {@code x} with its mix with {@code xFp} at iteration {@code t}. */
    void mix(float[] x, float[] xFp, int t);
  }

  /** What the caller sees of the loop: the loss check before each backward pass, and progress. */
  interface Monitor {
    Monitor NONE = new Monitor() {};

    /** Called with reconstruction plus rounding loss before the backward pass; may throw. */
    default void checkLoss(int t, double loss) {}

    /** Called after the Adam steps of iteration t with the two parts of its loss. */
    default void iteration(int t, double reconLoss, double roundLoss) {}
  }

  private final Kernels k;
  private final Unit unit;
  private final Settings s;
  private final List<WeightQuantizer.AdaRoundSoft> rounders;
  private final List<Var> steps;
  private IntFunction<? extends ForwardContext> contextAt;
  private ActivationCache fpIn;
  private Mixing mixing;
  private Monitor monitor = Monitor.NONE;

  /**
   * @param rounders the soft-rounded layers whose α are learned (may be empty)
   * @param steps the activation steps that are learned (may be empty)
   * @param ctx the forward context of every iteration
   */
  UnitOptimizer(Kernels k, Unit unit, Settings s, List<WeightQuantizer.AdaRoundSoft> rounders,
      List<Var> steps, ForwardContext ctx) {
    this.k = k;
    this.unit = unit;
    this.s = s;
    this.rounders = rounders;
    this.steps = steps;
    this.contextAt = t -> ctx;
  }

  /** The forward context of iteration t (QDrop: with that iteration's dropping). Returns this. */
  UnitOptimizer contextPerIteration(IntFunction<? extends ForwardContext> contextAt) {
    this.contextAt = contextAt;
    return this;
  }

  /**
   * Mixes each minibatch's input with the same rows of {@code fpIn} (cached FP inputs) before the
   * forward pass. Returns this.
   */
  UnitOptimizer mixing(ActivationCache fpIn, Mixing mixing) {
    this.fpIn = fpIn;
    this.mixing = mixing;
    return this;
  }

  /** Returns this, reporting to {@code monitor}. */
  UnitOptimizer monitor(Monitor monitor) {
    this.monitor = monitor;
    return this;
  }

  /**
   * Runs the loop.
   *
   * @param in cached unit inputs, one row per calibration image
   * @param target cached FP unit outputs for those rows
   * @param fisher Fisher factors of the unit's output for those rows, or null for |ŷ − y|^p
   * @return iterations run: T, or 0 when there is nothing to learn
   */
  int run(ActivationCache in, ActivationCache target, ActivationCache fisher) {
    List<Var> alphas = new ArrayList<>();
    for (WeightQuantizer.AdaRoundSoft r : rounders) {
      alphas.add(r.alpha());
    }
    Adam adamAlpha = alphas.isEmpty() ? null : Adam.withDefaults(alphas);
    Adam adamSteps = steps.isEmpty() ? null : Adam.withDefaults(steps);
    if (adamAlpha == null && adamSteps == null) {
      return 0;
    }
    int iters = s.iters();
    int n = in.rows();
    int batch = Math.min(s.batchSize(), n);
    SplittableRandom rng = Streams.MINIBATCH.random(s.seed(), s.stream());
    int[] perm = new int[n];
    for (int t = 1; t <= iters; t++) {
      int[] idx = s.sampling() == Sampling.WITH_REPLACEMENT ? sampleWithReplacement(rng, n, batch)
          : sampleWithoutReplacement(rng, perm, batch);
      Tensor x = in.gather(idx);
      if (mixing != null) {
        mixing.mix(x.data(), fpIn.gather(idx).data(), t);
      }
      Tensor y = target.gather(idx);
      Graph g = Graph.training(k);
      Var out = unit.forward(g, Var.constant(x), contextAt.apply(t));
      Var rec = fisher == null ? Functions.reconLoss(g, out, y, s.lossP())
          : Functions.fisherDiagLoss(g, out, y, fisher.gather(idx));
      Var total = rec;
      double roundLoss = 0;
      if (!rounders.isEmpty() && AdaRound.regularizerActive(t, iters, s.warmup())) {
        double beta = AdaRound.beta(t, iters, s.warmup());
        for (WeightQuantizer.AdaRoundSoft r : rounders) {
          Var reg = r.regularizer(g, s.roundLambda(), beta);
          roundLoss += reg.value().item();
          total = Functions.addScalars(g, total, reg);
        }
      }
      monitor.checkLoss(t, rec.value().item() + roundLoss);
      g.backward(total);
      if (adamAlpha != null) {
        adamAlpha.step(s.lrAlpha());
      }
      if (adamSteps != null) {
        adamSteps.step((float) Schedules.cosineForIteration(s.lrSteps(), t, iters));
      }
      monitor.iteration(t, rec.value().item(), roundLoss);
    }
    return iters;
  }

  /** BRECQ: the first {@code batch} entries of a fresh random permutation (no repeats). */
  static int[] sampleWithoutReplacement(SplittableRandom rng, int[] perm, int batch) {
    int n = perm.length;
    for (int i = 0; i < n; i++) {
      perm[i] = i;
    }
    int[] out = new int[batch];
    for (int i = 0; i < batch; i++) {
      int j = i + rng.nextInt(n - i);
      int tmp = perm[i];
      perm[i] = perm[j];
      perm[j] = tmp;
      out[i] = perm[i];
    }
    return out;
  }

  /** QDrop: {@code batch} indices uniform in [0, n), with replacement. */
  static int[] sampleWithReplacement(SplittableRandom rng, int n, int batch) {
    int[] out = new int[batch];
    for (int i = 0; i < batch; i++) {
      out[i] = rng.nextInt(n);
    }
    return out;
  }
}
