package org.qlimit.kernel;

import org.qlimit.util.Check;

/**
 * The fixed-point arithmetic of the integer path (docs/INTEGER.md §3): a real multiplier M &gt; 0
 * encoded as a Q31 mantissa and a right shift, and the one rounding operation every
 * requantization uses.
 *
 * <pre>
 *   M ≈ m0 · 2^−shift,   m0 ∈ [2^30, 2^31) (int32),   1 ≤ shift ≤ 62
 *   roundShift(p, k) = ⌊p / 2^k⌉  with ties to even, for an int64 p and 1 ≤ k ≤ 62
 *   apply(v, M)      = roundShift((int64) v · m0, shift)   for an int32 v (exact: |v·m0| &lt; 2^62)
 * </pre>
 *
 * One rounding of the exact product, ties to even (the rounding of ALGORITHMS.md §1 and of the
 * fake-quantized path's Math.rint), not gemmlowp's two roundings half away from zero.
 */
public final class FixedPoint {
  private FixedPoint() {}

  /** Largest shift: products of an int32 and a Q31 mantissa stay below 2^62. */
  public static final int MAX_SHIFT = 62;

  /**
   * An encoded multiplier. {@code m0 = 0} (with shift 1) encodes a multiplier below 2^−32, for
   * which {@code apply} is exactly 0 for every int32 input (|v·M| &lt; 1/2).
   *
   * @param m0 the Q31 mantissa, in [2^30, 2^31), or 0
   * @param shift the right shift, 1..62
   */
  public record Multiplier(int m0, int shift) {
    public Multiplier {
      Check.arg(m0 == 0 || m0 >= (1 << 30), "fixed-point mantissa %d is not in [2^30, 2^31)", m0);
      Check.arg(shift >= 1 && shift <= MAX_SHIFT, "fixed-point shift %d is not in 1..62", shift);
    }

    /** The real value m0 · 2^−shift. */
    public double value() {
      return Math.scalb((double) m0, -shift);
    }
  }

  /**
   * Encodes M: with M = f·2^e, f ∈ [1, 2), m0 = ⌊f·2^30⌉ (ties to even; if that is 2^31, m0 = 2^30
   * and e + 1), shift = 30 − e. Exact double operations only (Math.getExponent, Math.scalb,
   * Math.rint), so the encoding is the same on every JVM.
   *
   * @throws IllegalArgumentException when M is not finite and positive, or M ≥ 2^30 (shift &lt; 1)
   */
  public static Multiplier encode(double m) {
    Check.arg(Double.isFinite(m) && m > 0, "fixed-point multiplier must be finite and > 0, got %s",
        m);
    int e = Math.getExponent(m);
    if (e < 30 - MAX_SHIFT) {
      return new Multiplier(0, 1);
    }
    long m0 = (long) Math.rint(Math.scalb(m, 30 - e));
    if (m0 == 1L << 31) {
      m0 = 1L << 30;
      e++;
    }
    int shift = 30 - e;
    Check.arg(shift >= 1 && shift <= MAX_SHIFT, "fixed-point multiplier %s is too large (must "
        + "be below 2^30)", m);
    return new Multiplier((int) m0, shift);
  }

  /**
   * ⌊p / 2^k⌉ with ties to even: t = p &gt;&gt; k (arithmetic, i.e. floor), r = p − t·2^k; t + 1
   * when r &gt; 2^(k−1), or r = 2^(k−1) and t is odd.
   */
  public static long roundShift(long p, int k) {
    long t = p >> k;
    long r = p & ((1L << k) - 1);
    long half = 1L << (k - 1);
    return r > half || (r == half && (t & 1) != 0) ? t + 1 : t;
  }

  /** roundShift((int64) v · m0, shift). */
  public static long apply(int v, Multiplier m) {
    return roundShift((long) v * m.m0(), m.shift());
  }

  /**
   * ⌊v / d⌉ with ties to even for d &gt; 0 (integer average pooling): t = ⌊v/d⌋, r = v − t·d;
   * t + 1 when 2r &gt; d, or 2r = d and t is odd.
   */
  public static long roundDiv(long v, long d) {
    long t = Math.floorDiv(v, d);
    long r = v - t * d;
    return 2 * r > d || (2 * r == d && (t & 1) != 0) ? t + 1 : t;
  }
}
