package org.qlimit.util;

/**
 * Everything that could change the bits of a result, pinned in one immutable value.
 *
 * <p>qlimit's kernels are written so that none of these settings changes a result: every output
 * element accumulates in a fixed order, and reductions use {@link #LOGICAL_LANES} logical lanes summed
 * in a fixed tree. The settings are still recorded in every run manifest, and the tests force each of
 * them to prove that claim.
 *
 * @param vectorBits the SIMD species width used by the kernels: 0 = scalar reference path, or 128,
 *     256, 512 (the widest the CPU supports is the default)
 * @param threads number of worker threads; work is split only over independent outputs
 */
public record NumericsConfig(int vectorBits, int threads) {

  /** Reductions use this many logical lanes, whatever the physical vector width. */
  public static final int LOGICAL_LANES = 16;

  public NumericsConfig {
    Check.arg(vectorBits == 0 || vectorBits == 128 || vectorBits == 256 || vectorBits == 512,
        "vectorBits must be 0 (scalar), 128, 256 or 512, got %d", vectorBits);
    Check.arg(threads >= 1 && threads <= 256, "threads must be in 1..256, got %d", threads);
  }

  /** Default: the widest vector the JVM prefers (capped at 512 bits), one thread per processor. */
  public static NumericsConfig defaults() {
    return new NumericsConfig(preferredVectorBits(), Runtime.getRuntime().availableProcessors());
  }

  public NumericsConfig withThreads(int t) {
    return new NumericsConfig(vectorBits, t);
  }

  public NumericsConfig withVectorBits(int bits) {
    return new NumericsConfig(bits, threads);
  }

  /**
   * The preferred vector width reported by the Vector API, read through a system property that
   * the kernel package sets at class initialisation; falls back to 256.
   */
  public static int preferredVectorBits() {
    return VectorWidth.preferredBits();
  }
}
