package org.qlimit.peers;

import java.util.SplittableRandom;

/**
 * Seeded inputs and the one-time agreement check shared by the peer benchmarks.
 *
 * <p>qlimit and a native peer never give the same bits (different summation orders), so the check
 * is a tolerance on the largest absolute difference, relative to the largest magnitude of the
 * reference: {@code max|got - want| <= relTol * max|want|}.
 */
final class PeerData {
  private PeerData() {}

  /** len floats uniform in [-1, 1), from a {@link SplittableRandom} seeded with seed. */
  static float[] random(long seed, long len) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[Math.toIntExact(len)];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  /** max over i of |a[i] - b[i]|; a and b have the same length. */
  static double maxAbsDiff(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("lengths differ: " + a.length + " vs " + b.length);
    }
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs((double) a[i] - b[i]));
    }
    return m;
  }

  /** max over i of |a[i]|. */
  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }

  /**
   * Throws unless {@code max|got - want| <= relTol * max|want|}; returns a one-line summary
   * ("what: max|diff| = ..., max|want| = ...") for the benchmark log.
   */
  static String agree(String what, float[] got, float[] want, double relTol) {
    double diff = maxAbsDiff(got, want);
    double scale = maxAbs(want);
    String line = String.format("%s: max|diff| = %.3g, max|value| = %.3g", what, diff, scale);
    if (!(diff <= relTol * scale)) {
      throw new IllegalStateException("qlimit and peer disagree, " + line);
    }
    return line;
  }
}
