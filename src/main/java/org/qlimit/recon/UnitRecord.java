package org.qlimit.recon;

/**
 * What happened to one unit in one phase: its reconstruction loss on the first calibration
 * inputs (up to 256) before and after, the iterations run and the wall time.
 *
 * @param unit unit name (a layer name for layer-wise AdaRound)
 * @param phase "weights", "activations", "joint" (QDrop) or "layer" (AdaRound)
 * @param iters iterations run (0 when the unit was skipped)
 * @param lossBefore reconstruction loss with nearest rounding and initial steps
 * @param lossAfter reconstruction loss with the final (hard) rounding and learned steps
 * @param seconds wall time
 */
public record UnitRecord(String unit, String phase, int iters, double lossBefore,
    double lossAfter, double seconds) {}
