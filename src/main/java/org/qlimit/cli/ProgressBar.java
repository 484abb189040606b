package org.qlimit.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.qlimit.run.RunListener;

/**
 * A text progress bar with rate and ETA. On a terminal it redraws one line; otherwise (logs, CI)
 * it prints a line at each 10 % step so output stays readable.
 */
final class ProgressBar {
  private static final int WIDTH = 24;
  private final PrintStream out;
  private final String label;
  private final long total;
  private final boolean tty;
  private final long start = System.nanoTime();
  private int lastDecile = -1;
  private long lastDraw;

  ProgressBar(PrintStream out, String label, long total) {
    this.out = out;
    this.label = label;
    this.total = Math.max(1, total);
    this.tty = System.console() != null;
  }

  /** Updates the bar to {@code done} of total with an optional suffix (e.g. the loss). */
  void update(long done, String suffix) {
    long now = System.nanoTime();
    int decile = (int) (10 * done / total);
    if (tty) {
      if (done < total && now - lastDraw < 100_000_000L) {
        return;
      }
      lastDraw = now;
      out.print("\r" + line(done, suffix) + "\u001b[K");
      if (done >= total) {
        out.println();
      }
    } else if (decile != lastDecile || done >= total) {
      lastDecile = decile;
      if (done > 0) {
        out.println(line(done, suffix));
      }
    }
    out.flush();
  }

  /** Prints a message on its own line without breaking the bar. */
  void message(String msg) {
    if (tty) {
      out.print("\r\u001b[K");
    }
    out.println(msg);
  }

  private String line(long done, String suffix) {
    double frac = Math.min(1.0, done / (double) total);
    int filled = (int) Math.round(frac * WIDTH);
    double secs = (System.nanoTime() - start) / 1e9;
    double eta = done > 0 ? secs / done * (total - done) : Double.NaN;
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-22s [", label));
    for (int i = 0; i < WIDTH; i++) {
      sb.append(i < filled ? '#' : '.');
    }
    sb.append(String.format(Locale.ROOT, "] %3.0f%% %d/%d %s ETA %s", frac * 100, done, total,
        time(secs), Double.isNaN(eta) ? "?" : time(eta)));
    if (suffix != null && !suffix.isEmpty()) {
      sb.append("  ").append(suffix);
    }
    return sb.toString();
  }

  static String time(double secs) {
    return RunListener.duration(secs);
  }
}
