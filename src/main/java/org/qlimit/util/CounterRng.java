package org.qlimit.util;

/**
 * Counter-based random numbers: a pure function of (seed, stream, step, index).
 *
 * <p>Element-wise random masks (QDrop's dropping, stochastic rounding) are drawn with
 * {@link #uniform(long, long, long, long)} indexed by the element's flat position, so the mask
 * does not depend on the order in which threads visit elements. The mixing function is
 * SplitMix64's finaliser (Steele, Lea, Flood: "Fast splittable pseudorandom number generators",
 * OOPSLA 2014), applied to a combination of the four counters.
 */
public final class CounterRng {
  private CounterRng() {}

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** SplitMix64 finaliser: a bijective 64-bit mix. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** 64 random bits for the given counters. */
  public static long bits(long seed, long stream, long step, long index) {
    return bitsAt(prefix(seed, stream, step), index);
  }

  /**
   * The part of {@link #bits} that does not depend on the index: pass it to {@link #bitsAt} or
   * {@link #uniformAt} to draw many indices of one (seed, stream, step) without recomputing it.
   * {@code bitsAt(prefix(seed, stream, step), i) == bits(seed, stream, step, i)} for every i.
   */
  public static long prefix(long seed, long stream, long step) {
    long h = mix64(seed + GOLDEN);
    h = mix64(h ^ (stream + GOLDEN * 2));
    return mix64(h ^ (step + GOLDEN * 3));
  }

  /** {@link #bits} for the index, given {@code prefix(seed, stream, step)}. */
  public static long bitsAt(long prefix, long index) {
    return mix64(prefix ^ (index + GOLDEN * 4));
  }

  /** {@link #uniform} for the index, given {@code prefix(seed, stream, step)}. */
  public static float uniformAt(long prefix, long index) {
    return (bitsAt(prefix, index) >>> 40) * 0x1.0p-24f;
  }

  /** Uniform float in [0, 1) with 24 random bits. */
  public static float uniform(long seed, long stream, long step, long index) {
    return (bits(seed, stream, step, index) >>> 40) * 0x1.0p-24f;
  }

  /** Derives the seed of a sub-stream (for example, one per consumer or per unit). */
  public static long derive(long seed, long stream) {
    return bits(seed, stream, 0x5EEDL, 0L);
  }
}
