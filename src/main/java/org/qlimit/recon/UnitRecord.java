package org.qlimit.recon;

/**
 * What happened to one unit in one phase: its reconstruction loss on the first calibration
 * inputs (up to 256) before and after, the iterations run and the wall time; or, for a unit the
 * method leaves as it is, why it was skipped.
 *
 * @param unit unit name (a layer name for layer-wise AdaRound)
 * @param phase "weights", "activations", "joint" (QDrop) or "layer" (AdaRound)
 * @param iters iterations run (0 when the unit was skipped)
 * @param lossBefore reconstruction loss with nearest rounding and initial steps (NaN when
 *     skipped: not measured)
 * @param lossAfter reconstruction loss with the final (hard) rounding and learned steps (NaN
 *     when skipped)
 * @param seconds wall time
 * @param skipped why the unit was not reconstructed, or null when it was
 */
public record UnitRecord(String unit, String phase, int iters, double lossBefore,
    double lossAfter, double seconds, String skipped) {

  /** A unit that was reconstructed. */
  public UnitRecord(String unit, String phase, int iters, double lossBefore, double lossAfter,
      double seconds) {
    this(unit, phase, iters, lossBefore, lossAfter, seconds, null);
  }

  /** A unit the method does not reconstruct, with the reason (no losses are measured). */
  public static UnitRecord skipped(String unit, String phase, String reason) {
    return new UnitRecord(unit, phase, 0, Double.NaN, Double.NaN, 0, reason);
  }

  public boolean isSkipped() {
    return skipped != null;
  }
}
