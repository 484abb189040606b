package org.qlimit.optim;

import org.qlimit.util.Check;

/** Learning-rate and temperature schedules as pure functions of the step. */
public final class Schedules {
  private Schedules() {}

  /**
   * Cosine annealing to 0 (PyTorch's CosineAnnealingLR with eta_min = 0, closed form):
   * lr(t) = lr0·(1 + cos(π·t/T))/2, for the t-th scheduler state, t = 0..T. The references
   * apply the step-t value at iteration t + 1 (the scheduler steps after each optimiser step).
   */
  public static float cosine(float lr0, int t, int total) {
    Check.arg(total > 0 && t >= 0, "cosine: t=%d total=%d", t, total);
    if (t >= total) {
      return 0f;
    }
    return (float) (lr0 * (1 + StrictMath.cos(StrictMath.PI * t / total)) / 2);
  }
}
