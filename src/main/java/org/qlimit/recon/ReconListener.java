package org.qlimit.recon;

/** Progress of a reconstruction run (the command line draws bars from it; tests ignore it). */
public interface ReconListener {
  /** A named step of the pipeline begins (calibration, a phase). */
  default void stage(String description) {}

  /** Unit {@code index} of {@code count} starts a phase of {@code iters} iterations. */
  default void unitStart(int index, int count, String unit, String phase, int iters) {}

  /** After iteration t (1-based) of the current unit. */
  default void iteration(int t, int iters, double loss, double recLoss, double roundLoss) {}

  /** The current unit is done. */
  default void unitEnd(UnitRecord record) {}

  ReconListener NONE = new ReconListener() {};
}
