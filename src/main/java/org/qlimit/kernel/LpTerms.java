package org.qlimit.kernel;

/**
 * The Lp range-search score of ALGORITHMS.md §2, Σ |x − x̂|^2.4 with x̂ the float32 fake
 * quantization of x, defined so that a vector loop can compute it bit for bit. This class is the
 * readable scalar definition; {@code SimdOps*.lpSum} is its vector twin (tested bitwise).
 *
 * <p><b>Fake quantization</b> (as {@code quant.FakeQuant}): {@code u = rint(x / s) + z},
 * {@code u = min(max(u, qmin), qmax)}, {@code x̂ = (u − z) · s}, all float32; d = |x − x̂|.
 *
 * <p><b>The term</b> {@code d^2.4} in float32, division-free (see {@link #term}): with
 * d = m·2^e (m in [1, 2)) and e = 5q + r (r in 0..4),
 * {@code d^2.4 = d² · m^0.4 · 2^(0.4 r) · 4^q}; m^0.4 is a degree-7 polynomial in (m − 1.5)
 * evaluated with fma (max relative error 1.4e-7, about one float ulp), 2^(0.4 r) is one of five
 * float constants and 4^q is an exact power of two. Terms of d &lt; 2^-60 (whose value is below
 * 2^-144, under float's normal range) are 0.
 *
 * <p><b>The sum</b>: the elements are taken in chunks of {@link #CHUNK} from the first; inside a
 * chunk, 16 float lanes (lane = index mod 16 within the chunk) add the terms in increasing index
 * order, are combined by {@link Lanes#sumInOrder}, and the chunk's leftover elements (fewer than
 * 16, last chunk only) are added one by one; each chunk's float total is then added to a double
 * running sum in chunk order. The float lanes vectorize; the double sum keeps the precision of
 * millions of terms (each chunk holds 256 terms per lane).
 */
public final class LpTerms {
  private LpTerms() {}

  /** Elements per chunk (256 per logical lane). */
  public static final int CHUNK = 16 * 256;

  /** Below this difference the term is 0. */
  static final float TINY = 0x1p-60f;

  // m^0.4 on [1, 2] ≈ Σ P[k] · (m − 1.5)^k (least squares on Chebyshev nodes, float32 coefficients)
  static final float P0 = 1.1760790348052979f;
  static final float P1 = 0.31362101435661316f;
  static final float P2 = -0.06272672861814499f;
  static final float P3 = 0.022304750978946686f;
  static final float P4 = -0.009609868749976158f;
  static final float P5 = 0.004595891572535038f;
  static final float P6 = -0.002733971457928419f;
  static final float P7 = 0.001499829813838005f;

  /** 2^(0.4·r), r = 0..4, rounded to float. */
  static final float C0 = 1.0f;
  static final float C1 = (float) StrictMathConstants.TWO_POW_0_4;
  static final float C2 = (float) StrictMathConstants.TWO_POW_0_8;
  static final float C3 = (float) StrictMathConstants.TWO_POW_1_2;
  static final float C4 = (float) StrictMathConstants.TWO_POW_1_6;

  /** Constants computed once with StrictMath, so they are the same on every JVM. */
  private static final class StrictMathConstants {
    static final double TWO_POW_0_4 = StrictMath.pow(2.0, 0.4);
    static final double TWO_POW_0_8 = StrictMath.pow(2.0, 0.8);
    static final double TWO_POW_1_2 = StrictMath.pow(2.0, 1.2);
    static final double TWO_POW_1_6 = StrictMath.pow(2.0, 1.6);
  }

  /** m^0.4 for m in [1, 2): Horner with fma in (m − 1.5). */
  static float root(float m) {
    float t = m - 1.5f;
    float p = P7;
    p = Math.fma(p, t, P6);
    p = Math.fma(p, t, P5);
    p = Math.fma(p, t, P4);
    p = Math.fma(p, t, P3);
    p = Math.fma(p, t, P2);
    p = Math.fma(p, t, P1);
    p = Math.fma(p, t, P0);
    return p;
  }

  /**
   * d^2.4 for d ≥ 0 (finite), in float32, as the class comment defines it:
   * {@code (d·d) · (root(m) · (C[r] · 4^q))}.
   */
  public static float term(float d) {
    if (!(d >= TINY)) {
      return 0f;
    }
    int bits = Float.floatToRawIntBits(d);
    int n = (bits >>> 23) - 127 + 60; // exponent + 60, in [0, 187]
    int q5 = (n * 13108) >>> 16; // floor(n / 5) for 0 ≤ n < 16384
    int r = n - 5 * q5;
    int q = q5 - 12; // d's exponent = 5q + r
    float m = Float.intBitsToFloat((bits & 0x7FFFFF) | 0x3F800000);
    float c = r == 0 ? C0 : r == 1 ? C1 : r == 2 ? C2 : r == 3 ? C3 : C4;
    float pow4q = Float.intBitsToFloat((2 * q + 127) << 23);
    return (d * d) * (root(m) * (c * pow4q));
  }

  /** The float32 fake quantization of one element (see the class comment). */
  static float fakeQuant(float x, float s, float z, float qmin, float qmax) {
    float u = (float) Math.rint(x / s) + z;
    u = Math.min(Math.max(u, qmin), qmax);
    return (u - z) * s;
  }

  /**
   * Σ term(|x − x̂|) over x[off, off+len) in the chunked 16-lane order of the class comment; the
   * scalar reference of {@link Kernels#lpSum}.
   *
   * @param x values. Not modified.
   */
  public static double sum(float[] x, int off, int len, float s, float z, int qmin, int qmax) {
    return sum(x, off, len, s, z, qmin, qmax, Double.POSITIVE_INFINITY);
  }

  /**
   * {@link #sum}, stopping early: after each chunk, once the running double total exceeds
   * {@code limit}, that total is returned. The terms are ≥ 0, so the result is ≤ the full sum,
   * it exceeds limit exactly when the full sum does, and it is the full sum when that is ≤ limit
   * (the scalar reference of {@link Kernels#lpSumUpTo}).
   *
   * @param x values. Not modified.
   */
  public static double sum(float[] x, int off, int len, float s, float z, int qmin, int qmax,
      double limit) {
    float lo = qmin;
    float hi = qmax;
    double total = 0.0;
    float[] lanes = new float[Lanes.N];
    for (int c0 = 0; c0 < len; c0 += CHUNK) {
      int n = Math.min(CHUNK, len - c0);
      int full = n - n % Lanes.N;
      java.util.Arrays.fill(lanes, 0f);
      for (int i = 0; i < full; i++) {
        float v = x[off + c0 + i];
        lanes[i % Lanes.N] += term(Math.abs(v - fakeQuant(v, s, z, lo, hi)));
      }
      float chunk = Lanes.sumInOrder(lanes);
      for (int i = full; i < n; i++) {
        float v = x[off + c0 + i];
        chunk += term(Math.abs(v - fakeQuant(v, s, z, lo, hi)));
      }
      total += chunk;
      if (total > limit) {
        return total;
      }
    }
    return total;
  }
}
