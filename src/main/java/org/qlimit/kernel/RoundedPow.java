package org.qlimit.kernel;

import org.qlimit.util.Check;
import org.qlimit.util.Parallel;

/**
 * Float results of expressions built on {@code StrictMath.pow} in double, the same bits, without
 * calling {@code StrictMath.pow} for almost every element: Ziv's rounding test (Ziv 1991,
 * "Fast evaluation of elementary mathematical functions with correctly rounded last bit"; the
 * method of CRlibm) applied to the final rounding to float.
 *
 * <p><b>Why it is exact.</b> Each method here defines its result as a double expression E that
 * contains {@code StrictMath.pow(x, y)} and is rounded once to float at the end. It evaluates the
 * same expression with {@link #approx} in place of the pow. The two doubles differ by at most a
 * relative {@link #TOL} (bound below), so the exact-pow value lies in the interval
 * [v − |v|·TOL, v + |v|·TOL] around the approximate value v. The conversion to float is monotone,
 * so when both ends of that interval round to the same float, that float is E's float, bit for bit.
 * When they do not (v within TOL of a rounding boundary; about one element in 2^9 for TOL =
 * 2^-34), or when an input is outside the fast range (zero, subnormal, NaN, infinity, |y·ln x| &gt;
 * 700), the element is computed with {@code StrictMath.pow} as the definition writes it. Results
 * therefore do not depend on the thread count, the JDK or the hardware.
 *
 * <p><b>The bound.</b> {@link #approx} computes x^y = e^(y·ln x) in double: ln x = e·ln 2 +
 * ln m (x = m·2^e, m in [√½, √2)) with ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716, by
 * its series to s^21 (truncation below 2^-60); then e^z = 2^k · e^r, k = rint(z/ln 2),
 * r = z − k·ln 2 (Cody–Waite, two constants), |r| ≤ 0.347, by Taylor's series to r^13
 * (truncation below 2^-57). The rounding of ln x (|ln x| ≤ 104 for the float differences and
 * rectified sigmoids passed here) and of z = y·ln x (|z| ≤ 700) dominate: at most
 * (y·104 + 700)·2^-53 ≈ 2^-43 relative error in the result for y ≤ 20. {@code StrictMath.pow}
 * is within 1 ulp (2^-52) of x^y, and the expression's other roundings add a few 2^-53. TOL =
 * 2^-34 leaves a factor of more than 300 over their sum; RoundedPowTest measures the
 * approximation's largest error (about 2^-46 on the inputs it draws) and compares every result
 * bit for bit with the StrictMath definition.
 */
public final class RoundedPow {
  private RoundedPow() {}

  /** The relative distance between the approximate and the StrictMath value that is tolerated. */
  static final double TOL = 0x1p-34;

  /** Elements per partial sum of the approximate sums (fixed, so threads do not change them). */
  static final int CHUNK = 4096;

  private static final double SQRT2 = 1.4142135623730951;
  private static final double LN2 = 0x1.62e42fefa39efp-1;
  private static final double INV_LN2 = 0x1.71547652b82fep0;
  /** ln 2 = LN2_HI + LN2_LO; LN2_HI has 32 significant bits, so k·LN2_HI is exact for |k| ≤ 2^20. */
  private static final double LN2_HI = 0x1.62e42feep-1;
  private static final double LN2_LO = 0x1.a39ef35793c76p-33;
  /** |y·ln x| above this takes the StrictMath path (e^z would leave double's normal range). */
  private static final double Z_MAX = 700;

  /**
   * x^y ≈ e^(y·ln x) for x &gt; 0 normal and finite, y finite, |y·ln x| ≤ 700 (class comment); NaN
   * for any other input.
   */
  static double approx(double x, double y) {
    long bits = Double.doubleToRawLongBits(x);
    int ex = (int) (bits >>> 52);
    if (ex <= 0 || ex >= 0x7ff || !(Math.abs(y) < Double.POSITIVE_INFINITY)) {
      return Double.NaN;
    }
    int e = ex - 1023;
    double m = Double.longBitsToDouble((bits & 0x000fffffffffffffL) | 0x3ff0000000000000L);
    if (m > SQRT2) {
      m *= 0.5;
      e++;
    }
    double s = (m - 1.0) / (m + 1.0);
    double s2 = s * s;
    double q = 1.0 / 21;
    q = Math.fma(q, s2, 1.0 / 19);
    q = Math.fma(q, s2, 1.0 / 17);
    q = Math.fma(q, s2, 1.0 / 15);
    q = Math.fma(q, s2, 1.0 / 13);
    q = Math.fma(q, s2, 1.0 / 11);
    q = Math.fma(q, s2, 1.0 / 9);
    q = Math.fma(q, s2, 1.0 / 7);
    q = Math.fma(q, s2, 1.0 / 5);
    q = Math.fma(q, s2, 1.0 / 3);
    q = Math.fma(q, s2, 1.0);
    double lnm = (2.0 * s) * q;
    double z = y * Math.fma(e, LN2, lnm);
    if (!(Math.abs(z) <= Z_MAX)) {
      return Double.NaN;
    }
    double k = Math.rint(z * INV_LN2);
    double r = Math.fma(-k, LN2_HI, z);
    r = Math.fma(-k, LN2_LO, r);
    double p = 1.0 / 6227020800.0;                // 1/13!
    p = Math.fma(p, r, 1.0 / 479001600.0);        // 1/12!
    p = Math.fma(p, r, 1.0 / 39916800.0);
    p = Math.fma(p, r, 1.0 / 3628800.0);
    p = Math.fma(p, r, 1.0 / 362880.0);
    p = Math.fma(p, r, 1.0 / 40320.0);
    p = Math.fma(p, r, 1.0 / 5040.0);
    p = Math.fma(p, r, 1.0 / 720.0);
    p = Math.fma(p, r, 1.0 / 120.0);
    p = Math.fma(p, r, 1.0 / 24.0);
    p = Math.fma(p, r, 1.0 / 6.0);
    p = Math.fma(p, r, 0.5);
    p = Math.fma(p, r, 1.0);
    p = Math.fma(p, r, 1.0);
    return p * Double.longBitsToDouble((long) ((int) k + 1023) << 52);
  }

  /**
   * The float that every double within |v|·TOL of v rounds to, or NaN when they do not all round
   * to one float (or v is NaN). A zero keeps its sign, as the cast does.
   */
  static float decide(double v) {
    double a = Math.abs(v);
    double d = a * TOL;
    float lo = (float) (a - d);
    float hi = (float) (a + d);
    if (lo != hi) {
      return Float.NaN;
    }
    return Math.copySign(lo, (float) v);
  }

  /**
   * The same decision for a value known only within the absolute distance {@code radius} of
   * {@code v} (radius ≥ 0), widened by a relative 2^-50 for the roundings of the caller's last
   * operations: the float, or NaN when undecided.
   */
  static float decideWithin(double v, double radius) {
    double lo = (v - radius) - Math.abs(v - radius) * 0x1p-50;
    double hi = (v + radius) + Math.abs(v + radius) * 0x1p-50;
    float fl = (float) lo;
    return fl == (float) hi ? fl : Float.NaN;
  }

  // ------------------------------------------------------------------ |a − t|^p loss

  /**
   * The Lp reconstruction loss and its mean:
   * {@code (float) (Σ_i StrictMath.pow(|a_i − t_i|, p) / m)}, differences in double, the sum in
   * double in index order (the definition, {@link #lossMeanStrict}).
   *
   * @param a prediction, n values. Not modified.
   * @param t target, n values. Not modified.
   * @param p exponent, p ≥ 1
   * @param m the divisor (elements per channel: n / C in the caller)
   * @param threads threads for the approximate sum; the result does not depend on it
   */
  public static float lossMean(float[] a, float[] t, int n, double p, double m, int threads) {
    return lossMean(a, t, n, p, m, threads, RoundedPow::approxSum);
  }

  /** A sum of approx(|a_i − t_i|, p) over [from, to), in any order; NaN when one is undefined. */
  @FunctionalInterface
  interface ApproxSum {
    double approxSum(float[] a, float[] t, int from, int to, double p);
  }

  /** Σ approx(|a_i − t_i|, p) over [from, to) in index order (zeros add 0), or NaN. */
  static double approxSum(float[] a, float[] t, int from, int to, double p) {
    double s = 0;
    for (int i = from; i < to; i++) {
      double d = Math.abs((double) a[i] - t[i]);
      if (d == 0) {
        continue;
      }
      double v = approx(d, p);
      if (!(v >= 0)) {
        return Double.NaN;
      }
      s += v;
    }
    return s;
  }

  /** {@link #lossMean} with the approximate sums taken by {@code sum}. */
  static float lossMean(float[] a, float[] t, int n, double p, double m, int threads,
      ApproxSum sum) {
    Check.length("lossMean", "a", a, n);
    Check.length("lossMean", "t", t, n);
    int chunks = (n + CHUNK - 1) / CHUNK;
    double[] partial = new double[chunks];
    boolean[] bad = new boolean[1];
    Parallel.forRange(n >= 2 * CHUNK ? threads : 1, chunks, (c0, c1) -> {
      for (int c = c0; c < c1; c++) {
        double s = sum.approxSum(a, t, c * CHUNK, Math.min(n, (c + 1) * CHUNK), p);
        if (!(s >= 0)) {
          bad[0] = true;
          return;
        }
        partial[c] = s;
      }
    });
    if (!bad[0]) {
      double total = 0;
      for (double s : partial) {
        total += s;
      }
      // |exact-pow sum − approximate sum| ≤ Σ|pow − approx| + both sums' rounding errors
      // ≤ (TOL/4)·S + 2·(n·2^-53)·S, with S the terms' sum (≈ total, within 2^-20 of it).
      double radius = total * (TOL * 0.25 + 3.0 * n * 0x1p-53);
      float f = decideWithin(total / m, radius / m);
      if (!Float.isNaN(f)) {
        return f;
      }
    }
    return lossMeanStrict(a, t, n, p, m);
  }

  /** The definition of {@link #lossMean}: StrictMath.pow per element, summed in index order. */
  public static float lossMeanStrict(float[] a, float[] t, int n, double p, double m) {
    double acc = 0;
    for (int i = 0; i < n; i++) {
      acc += StrictMath.pow(Math.abs((double) a[i] - t[i]), p);
    }
    return (float) (acc / m);
  }

  /**
   * Gradient of the Lp loss, accumulated:
   * {@code da[i] += (float) ((p · StrictMath.pow(|d|, p − 1) · signum(d)) · scale)} with
   * d = a[i] − t[i] in double, for i in [from, to). Elementwise.
   *
   * @param da gradient w.r.t. a. Modified (accumulated), [from, to) only.
   * @param a prediction. Not modified.
   * @param t target. Not modified.
   */
  public static void lossGrad(float[] da, float[] a, float[] t, int from, int to, double p,
      double scale) {
    double y = p - 1;
    for (int i = from; i < to; i++) {
      double diff = (double) a[i] - t[i];
      double ad = Math.abs(diff);
      float v = Float.NaN;
      double pw = approx(ad, y);
      if (pw == pw) {
        v = decide(p * pw * Math.signum(diff) * scale);
      }
      if (v != v) {
        v = lossGradExact(diff, p, y, scale);
      }
      da[i] += v;
    }
  }

  /**
   * One element of {@link #lossGrad} by the definition, for the elements the rounding test leaves
   * undecided: {@code (float) (p · StrictMath.pow(|diff|, y) · signum(diff) · scale)}, y = p − 1.
   */
  static float lossGradExact(double diff, double p, double y, double scale) {
    return (float) (p * StrictMath.pow(Math.abs(diff), y) * Math.signum(diff) * scale);
  }

  /** The definition of {@link #lossGrad}. */
  public static void lossGradStrict(float[] da, float[] a, float[] t, int from, int to, double p,
      double scale) {
    for (int i = from; i < to; i++) {
      double diff = (double) a[i] - t[i];
      double gi = p * StrictMath.pow(Math.abs(diff), p - 1) * Math.signum(diff);
      da[i] += (float) (gi * scale);
    }
  }

  // ------------------------------------------------------------------ AdaRound's regulariser

  /**
   * AdaRound's rounding regulariser as a float:
   * {@code (float) (λ · Σ_i (1 − |2h_i − 1|^β))}, the terms in double with StrictMath.pow (pow
   * skipped where |2h − 1| is 0 or 1, exactly as its specification gives), summed in index order
   * (the definition, {@link #regularizerStrict}).
   *
   * @param h rectified sigmoids, n values in [0, 1]. Not modified.
   * @param beta β &gt; 0
   * @param threads threads for the approximate sum; the result does not depend on it
   */
  public static float regularizer(float[] h, int n, double lambda, double beta, int threads) {
    return regularizer(h, n, lambda, beta, threads, RoundedPow::regularizerSums);
  }

  /** Sums of the approximate regulariser terms over [from, to), in any order. */
  @FunctionalInterface
  interface RegularizerSums {
    /**
     * Writes Σ (1 − approx) to sums[0] and Σ approx to sums[1], approx = |2h − 1|^β (1 and 0
     * where |2h − 1| is 1 or 0); false when an approximation is undefined.
     */
    boolean sums(float[] h, int from, int to, double beta, double[] sums);
  }

  /** {@link RegularizerSums} in index order. */
  static boolean regularizerSums(float[] h, int from, int to, double beta, double[] sums) {
    double s = 0;
    double ps = 0;
    for (int i = from; i < to; i++) {
      double a = Math.abs(2.0 * h[i] - 1.0);
      double pw = a == 1.0 ? 1.0 : a == 0.0 ? 0.0 : approx(a, beta);
      if (!(pw >= 0)) {
        return false;
      }
      s += 1.0 - pw;
      ps += pw;
    }
    sums[0] = s;
    sums[1] = ps;
    return true;
  }

  /** {@link #regularizer} with the approximate sums taken by {@code sums}. */
  static float regularizer(float[] h, int n, double lambda, double beta, int threads,
      RegularizerSums sums) {
    Check.length("regularizer", "h", h, n);
    Check.arg(beta > 0, "regularizer: beta %s must be positive", beta);
    int chunks = (n + CHUNK - 1) / CHUNK;
    double[] partial = new double[chunks];
    double[] powSum = new double[chunks];
    boolean[] bad = new boolean[1];
    Parallel.forRange(n >= 2 * CHUNK ? threads : 1, chunks, (c0, c1) -> {
      double[] two = new double[2];
      for (int c = c0; c < c1; c++) {
        if (!sums.sums(h, c * CHUNK, Math.min(n, (c + 1) * CHUNK), beta, two)) {
          bad[0] = true;
          return;
        }
        partial[c] = two[0];
        powSum[c] = two[1];
      }
    });
    if (!bad[0] && lambda > 0 && lambda < Double.POSITIVE_INFINITY) {
      double sum = 0;
      double pows = 0;
      for (int c = 0; c < chunks; c++) {
        sum += partial[c];
        pows += powSum[c];
      }
      // each term 1 − pow differs by ≤ |pow − approx| + its own two roundings; both sums round
      double radius = pows * (TOL * 0.25) + (sum + pows + n) * (3.0 * n * 0x1p-53);
      float f = decideWithin(lambda * sum, lambda * radius);
      if (!Float.isNaN(f)) {
        return f;
      }
    }
    return regularizerStrict(h, n, lambda, beta);
  }

  /** The definition of {@link #regularizer}. */
  public static float regularizerStrict(float[] h, int n, double lambda, double beta) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
      double a = Math.abs(2.0 * h[i] - 1.0);
      sum += 1.0 - (a == 1.0 ? 1.0 : a == 0.0 ? 0.0 : StrictMath.pow(a, beta));
    }
    return (float) (lambda * sum);
  }

  /**
   * Gradient of the regulariser, accumulated, for i in [from, to) with dh[i] ≠ 0:
   * {@code dAlpha[i] += (float) (gradOut · λ · (−β · |2h − 1|^(β−1) · signum(2h − 1) · 2) · dh[i])},
   * the power with StrictMath.pow (0^(β−1) = 0 and 1^(β−1) = 1 by its specification for β &gt; 1;
   * other β take the definition as written).
   *
   * @param dAlpha gradient. Modified (accumulated), [from, to) only.
   * @param h rectified sigmoids. Not modified.
   * @param dh their derivatives. Not modified.
   */
  public static void regularizerGrad(float[] dAlpha, float[] h, double[] dh, int from, int to,
      double lambda, double beta, double gradOut) {
    double y = beta - 1.0;
    if (!(y > 0)) {
      regularizerGradStrict(dAlpha, h, dh, from, to, lambda, beta, gradOut);
      return;
    }
    for (int i = from; i < to; i++) {
      double dhi = dh[i];
      if (dhi == 0.0) {
        continue;
      }
      double t = 2.0 * h[i] - 1.0;
      double a = Math.abs(t);
      float v = Float.NaN;
      double pw = a == 1.0 ? 1.0 : a == 0.0 ? 0.0 : approx(a, y);
      if (pw == pw) {
        v = decide(gradOut * lambda * (-beta * pw * Math.signum(t) * 2.0) * dhi);
      }
      if (v != v) {
        v = regularizerGradExact(t, dhi, lambda, beta, gradOut, y);
      }
      dAlpha[i] += v;
    }
  }

  /**
   * One element of {@link #regularizerGrad} by the definition, for t = 2h − 1 and y = β − 1:
   * {@code (float) (gradOut · λ · (−β · StrictMath.pow(|t|, y) · signum(t) · 2) · dh)}.
   */
  static float regularizerGradExact(double t, double dh, double lambda, double beta,
      double gradOut, double y) {
    double dReg = -beta * StrictMath.pow(Math.abs(t), y) * Math.signum(t) * 2.0;
    return (float) (gradOut * lambda * dReg * dh);
  }

  /** The definition of {@link #regularizerGrad}. */
  public static void regularizerGradStrict(float[] dAlpha, float[] h, double[] dh, int from,
      int to, double lambda, double beta, double gradOut) {
    for (int i = from; i < to; i++) {
      double dhi = dh[i];
      if (dhi == 0.0) {
        continue;
      }
      double t = 2.0 * h[i] - 1.0;
      double a = Math.abs(t);
      double dReg = -beta * StrictMath.pow(a, beta - 1.0) * Math.signum(t) * 2.0;
      dAlpha[i] += (float) (gradOut * lambda * dReg * dhi);
    }
  }
}
