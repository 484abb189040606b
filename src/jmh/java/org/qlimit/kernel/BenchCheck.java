package org.qlimit.kernel;

import java.util.SplittableRandom;

/** Seeded inputs and the one-time result check shared by the kernel benchmarks. */
final class BenchCheck {
  private BenchCheck() {}

  static float[] random(long seed, long len) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[Math.toIntExact(len)];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  /** Throws unless got and want are bit-identical (the SIMD/scalar contract). */
  static void sameBits(String what, float[] got, float[] want) {
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
        throw new IllegalStateException(
            what + ": SIMD result differs from scalar at " + i + ": " + got[i] + " vs " + want[i]);
      }
    }
  }
}
