package org.qlimit.kernel;

import java.util.SplittableRandom;
import org.qlimit.util.NumericsConfig;

/** Seeded inputs and bit views shared by the kernel tests. */
final class KernelTestData {
  private KernelTestData() {}

  /** Uniform in [-1, 1), with about 3% exact +0 and −0 so that signed zeros are exercised. */
  static float[] random(long seed, int len) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + len);
    float[] a = new float[len];
    for (int i = 0; i < len; i++) {
      int z = r.nextInt(64);
      a[i] = z == 0 ? 0f : z == 1 ? -0f : (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }

  static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }

  /** Every SIMD configuration under test: 128/256/512 bits × 1, 2, 4 threads. */
  static Kernels[] simdVariants() {
    return new Kernels[] {
        new SimdKernels(new NumericsConfig(256, 1)),
        new SimdKernels(new NumericsConfig(256, 2)),
        new SimdKernels(new NumericsConfig(256, 4)),
        new SimdKernels(new NumericsConfig(512, 1)),
        new SimdKernels(new NumericsConfig(512, 2)),
        new SimdKernels(new NumericsConfig(128, 1)),
        new SimdKernels(new NumericsConfig(128, 4)),
    };
  }
}
