package org.qlimit.cli;

import java.util.Locale;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.UnitRecord;
import org.qlimit.run.RunListener;

/**
 * The one-line report of a command that ran out of memory (an {@link OutOfMemoryError}), printed
 * by {@link Main} as {@code qlimit <command>: error: <message>} with exit code 1. It says what ran
 * out, during which stage, the run's memory estimate when one was made, and what to lower.
 */
final class OutOfMemory extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private OutOfMemory(String message) {
    super(message, null, false, false);
  }

  /**
   * What a run records as it goes, so that the report can name the stage and the estimate after
   * the run's own objects are gone.
   */
  static final class Watch {
    String stage = "loading the model and data";
    MemoryEstimate estimate;
    boolean mappedCaches;
    int calib;

    /** {@code l}, also recording the step, unit and memory estimate it is told about. */
    RunListener following(RunListener l) {
      return new RunListener() {
        @Override
        public void started(String description) {
          l.started(description);
        }

        @Override
        public void step(String step) {
          stage = step;
          l.step(step);
        }

        @Override
        public void memory(MemoryEstimate m, boolean mapped) {
          estimate = m;
          mappedCaches = mapped;
          l.memory(m, mapped);
        }

        @Override
        public void note(String line) {
          l.note(line);
        }

        @Override
        public void evaluating(String model, int done, int total) {
          l.evaluating(model, done, total);
        }

        @Override
        public void stage(String description) {
          stage = "reconstructing (" + description + ")";
          l.stage(description);
        }

        @Override
        public void unitStart(int index, int count, String unit, String phase, int iters) {
          stage = "reconstructing unit " + unit + " (" + phase + ")";
          l.unitStart(index, count, unit, phase, iters);
        }

        @Override
        public void iteration(int t, int iters, double loss, double rec, double round) {
          l.iteration(t, iters, loss, rec, round);
        }

        @Override
        public void unitEnd(UnitRecord r) {
          l.unitEnd(r);
        }
      };
    }

    /** The report for {@code e} at this point of the run. */
    OutOfMemory failure(OutOfMemoryError e) {
      long heap = Runtime.getRuntime().maxMemory();
      StringBuilder sb = new StringBuilder(ranOut(e, heap)).append(" while ").append(stage);
      if (estimate != null) {
        sb.append("; estimated need ").append(estimate.describe());
        if (mappedCaches) {
          sb.append(" (caches in memory-mapped files)");
        }
        sb.append(String.format(Locale.ROOT, "; lower --calib (now %d), use a smaller model, "
            + "or raise the heap, e.g. QLIMIT_JAVA_OPTS=-Xmx%s", calib,
            MemoryEstimate.suggestedHeap(estimate.total())));
      } else {
        sb.append(String.format(Locale.ROOT, " (before the memory estimate); lower --calib "
            + "(now %d), use a smaller model or data set, or raise the heap with "
            + "QLIMIT_JAVA_OPTS=-Xmx<size>", calib));
      }
      return new OutOfMemory(sb.toString());
    }
  }

  /** "out of memory (Java heap space; heap 300.0 MiB)". */
  static String ranOut(OutOfMemoryError e, long maxHeap) {
    String what = e.getMessage() == null || e.getMessage().isBlank() ? "Java heap"
        : e.getMessage();
    return "out of memory (" + what + "; heap " + MemoryEstimate.bytes(maxHeap) + ")";
  }

  /**
   * The report for an {@link OutOfMemoryError} that reached the command line without a run's
   * report (commands other than quantize, demo and mixed reconstruction).
   */
  static String generic(String command, OutOfMemoryError e) {
    String lower = switch (command) {
      case "train" -> "lower --batch";
      case "eval" -> "lower --limit";
      default -> "lower --calib or --eval-limit";
    };
    return ranOut(e, Runtime.getRuntime().maxMemory()) + " (no memory estimate for this "
        + "command); " + lower + ", use a smaller model or data set, or raise the heap with "
        + "QLIMIT_JAVA_OPTS=-Xmx<size>";
  }
}
