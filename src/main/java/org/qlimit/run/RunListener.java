package org.qlimit.run;

import java.util.Locale;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.ReconListener;

/**
 * Progress of a {@link QuantizationRun}: the reconstruction's events ({@link ReconListener}) plus
 * the run's own steps. Every method has an empty default, so a caller overrides only what it shows;
 * {@link #NONE} ignores everything. The command line prints these events; the library never prints.
 */
public interface RunListener extends ReconListener {
  /**
   * The run's settings in one line, once the model and data are loaded and the inputs checked,
   * e.g. "qdrop resnet20-fmnist on fashion-mnist, W2A4, 20 iters/unit, keep prob 0.5, λ 0.01,
   * 64 calibration images, seed 1005, 2 thread(s), 512-bit vectors".
   */
  default void started(String description) {}

  /**
   * A step of the run begins: "preparing the run", "reconstructing", "evaluating", "writing the
   * results" (the step a failure, such as running out of memory, happened in).
   */
  default void step(String step) {}

  /**
   * The run's memory estimate, and whether the activation caches go to memory-mapped files in the
   * output folder because they do not fit the heap.
   */
  default void memory(MemoryEstimate estimate, boolean mappedCaches) {}

  /**
   * A line worth telling the user, as the command line prints it: class coverage, limits beyond
   * the data, the memory decision, resuming or replacing a checkpoint, where the caches went.
   */
  default void note(String line) {}

  /**
   * Top-1 evaluation of the {@code model} ("FP" or "quantized") has reached {@code done} of
   * {@code total} test images; called with {@code done} = 0 before the first batch.
   */
  default void evaluating(String model, int done, int total) {}

  /** A duration for the user: "12.3s" under a minute, else "4m05s". */
  static String duration(double secs) {
    long s = Math.round(secs);
    return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
        : String.format(Locale.ROOT, "%.1fs", secs);
  }

  /** Ignores every event. */
  RunListener NONE = new RunListener() {};
}
