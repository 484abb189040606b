package org.qlimit.data;

import java.util.SplittableRandom;
import org.qlimit.util.Streams;

/**
 * The explicit choice of calibration images. Each method returns the indices used, so that a run
 * can record them. Asking for more images than the set holds is an error (never a silent
 * truncation); n must be at least 1.
 *
 * <ul>
 *   <li>{@link #firstN}: images 0..n-1 in file order (the default).
 *   <li>{@link #seeded}: n distinct indices drawn without replacement by a partial Fisher-Yates
 *       shuffle with {@code Streams.CALIBRATION_SAMPLE.random(seed)}, returned in draw order.
 *       Same seed and set size, same indices, on every machine.
 * </ul>
 */
public final class CalibrationSampler {
  private CalibrationSampler() {}

  public static int[] firstN(LabeledImages set, int n) {
    check(set, n);
    int[] idx = new int[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    return idx;
  }

  public static int[] seeded(LabeledImages set, int n, long seed) {
    check(set, n);
    int total = set.n();
    int[] perm = new int[total];
    for (int i = 0; i < total; i++) {
      perm[i] = i;
    }
    SplittableRandom rng = Streams.CALIBRATION_SAMPLE.random(seed);
    for (int i = 0; i < n; i++) {
      int j = i + rng.nextInt(total - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    int[] out = new int[n];
    System.arraycopy(perm, 0, out, 0, n);
    return out;
  }

  private static void check(LabeledImages set, int n) {
    if (n < 1 || n > set.n()) {
      throw new IllegalArgumentException("calibration size " + n + " is outside 1.." + set.n()
          + " (the size of " + set.name() + "); choose a smaller n or a larger set");
    }
  }
}
