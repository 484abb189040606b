package org.qlimit.quant;

import org.qlimit.util.Check;

/**
 * Learning-rate schedule of the activation steps, as a pure function of the step (ALGORITHMS.md
 * §4.1 step 2 and §4.2). The β schedule of AdaRound is {@link AdaRound#beta}.
 */
public final class Schedules {
  private Schedules() {}

  /**
   * Cosine annealing to 0 (Loshchilov and Hutter, SGDR, ICLR 2017; PyTorch
   * {@code CosineAnnealingLR(T_max = T, eta_min = 0)}), closed form in double with StrictMath.cos:
   *
   * <pre>
   *   lr(e) = lr0 · (1 + cos(π·e/T)) / 2
   * </pre>
   *
   * {@code e} is the number of scheduler steps already taken. Both references call
   * {@code optimizer.step()} before {@code scheduler.step()} (BRECQ block_recon.py l.97–99; QDrop
   * recon.py l.163–164), so iteration t (counted from 1) updates with lr(t − 1): the first
   * update uses lr0 and the last (t = T) uses lr0·(1 + cos(π(T−1)/T))/2. PyTorch evaluates the
   * schedule recursively, which agrees with this closed form up to float rounding.
   */
  public static double cosine(double lr0, long e, long iters) {
    Check.arg(iters >= 1 && e >= 0, "cosine: e=%d, T=%d", e, iters);
    return lr0 * (1.0 + StrictMath.cos(Math.PI * e / iters)) / 2.0;
  }

  /** The learning rate used by the update of iteration t (counted from 1): cosine(lr0, t − 1, T). */
  public static double cosineForIteration(double lr0, long t, long iters) {
    Check.arg(t >= 1, "cosineForIteration: t=%d (iterations count from 1)", t);
    return cosine(lr0, t - 1, iters);
  }
}
