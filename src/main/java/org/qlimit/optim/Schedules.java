package org.qlimit.optim;

import org.qlimit.util.Check;

/**
 * The learning-rate schedule, as a pure function of the step: cosine annealing, used by training
 * ({@code qlimit train}) and by the activation steps of reconstruction (ALGORITHMS.md §4.1 step 2
 * and §4.2). AdaRound's β schedule is {@code quant.AdaRound#beta}.
 */
public final class Schedules {
  private Schedules() {}

  /**
   * Cosine annealing to 0 (Loshchilov and Hutter, SGDR, ICLR 2017; PyTorch
   * {@code CosineAnnealingLR(T_max = T, eta_min = 0)}), closed form in double with StrictMath.cos:
   *
   * <pre>
   *   lr(e) = lr0 · (1 + cos(π·e/T)) / 2,   e = 0..T;  0 for e ≥ T
   * </pre>
   *
   * {@code e} is the number of scheduler steps already taken. PyTorch evaluates the schedule
   * recursively, which agrees with this closed form up to float rounding.
   *
   * @throws IllegalArgumentException when T &lt; 1 or e &lt; 0
   */
  public static double cosine(double lr0, long e, long iters) {
    Check.arg(iters >= 1 && e >= 0, "cosine: e=%d, T=%d", e, iters);
    if (e >= iters) {
      return 0.0;
    }
    return lr0 * (1.0 + StrictMath.cos(Math.PI * e / iters)) / 2.0;
  }

  /**
   * The learning rate used by the update of iteration t (counted from 1): cosine(lr0, t − 1, T).
   * Both references call {@code optimizer.step()} before {@code scheduler.step()} (BRECQ
   * block_recon.py l.97–99; QDrop recon.py l.163–164), so iteration t updates with lr(t − 1): the
   * first update uses lr0 and the last (t = T) uses lr0·(1 + cos(π(T−1)/T))/2.
   */
  public static double cosineForIteration(double lr0, long t, long iters) {
    Check.arg(t >= 1, "cosineForIteration: t=%d (iterations count from 1)", t);
    return cosine(lr0, t - 1, iters);
  }

  /**
   * Linear warm-up then linear decay to 0 (BERT's schedule; transformers
   * {@code get_linear_schedule_with_warmup}): for scheduler step e (0-based, the update of
   * iteration e + 1), lr0·e/W while e &lt; W, then lr0·max(0, (T − e)/(T − W)).
   *
   * @throws IllegalArgumentException when T &lt; 1, W ∉ [0, T) or e &lt; 0
   */
  public static double linearWarmupDecay(double lr0, long e, long warmup, long iters) {
    Check.arg(iters >= 1 && warmup >= 0 && warmup < iters && e >= 0,
        "linearWarmupDecay: e=%d, W=%d, T=%d", e, warmup, iters);
    if (e < warmup) {
      return lr0 * e / warmup;
    }
    return lr0 * Math.max(0.0, (double) (iters - e) / (iters - warmup));
  }
}
