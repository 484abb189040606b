package org.qlimit.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector twin of {@link RoundedPow}'s Lp-loss methods: {@link RoundedPow#approx} on double lanes
 * (the same operations: rint as the add-and-subtract of 1.5·2^52, exact for |z/ln 2| ≤ 1011) and
 * the same rounding test, with the StrictMath definition for the lanes the test does not decide.
 * Its results are those of the definitions, so they do not depend on the lane count; it runs at
 * the CPU's preferred width whatever width the kernels are configured for (as
 * {@link SimdKernels}' Lp sum). RoundedPowTest holds it to the definitions bit for bit.
 *
 * <p><b>Shape of the code.</b> Every loop here is its own method over arrays, and no method takes
 * or returns a vector: the work goes through chunks of {@link #CHUNK} doubles in stages (the
 * argument, then y·ln, then exp, then the consumer), each stage a loop that holds all its vector
 * operations. C2 compiles a vector operation as an intrinsic only inside one compiled body; a
 * helper that takes or returns a vector and is not inlined (over 325 bytecodes, or already
 * compiled on its own) passes its vectors boxed and runs them through the library's Java
 * fallback, about 30 times slower, which is what happened to the earlier one-method form on AVX2.
 */
final class RoundedPowVector {
  private RoundedPowVector() {}

  static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  static final int L = D.length();

  private static final double SQRT2 = 1.4142135623730951;
  private static final double LN2 = 0x1.62e42fefa39efp-1;
  private static final double INV_LN2 = 0x1.71547652b82fep0;
  private static final double LN2_HI = 0x1.62e42feep-1;
  private static final double LN2_LO = 0x1.a39ef35793c76p-33;
  private static final double ROUND = 0x1.8p52;
  private static final long ROUND_BITS = Double.doubleToRawLongBits(ROUND);

  /** Elements per chunk: the stage buffers hold this many doubles (4 KiB each, in L1). */
  private static final int CHUNK = 512;

  /**
   * x[k] := y·ln x[k] for k in [0, n) (n a multiple of L), as {@link RoundedPow#approx}; NaN where
   * x[k] is not a positive normal double.
   */
  private static void lnTimes(double[] x, int n, double y) {
    for (int k = 0; k < n; k += L) {
      LongVector bits = DoubleVector.fromArray(D, x, k).reinterpretAsLongs();
      LongVector ex = bits.lanewise(VectorOperators.LSHR, 52);
      VectorMask<Double> ok = ex.compare(VectorOperators.GT, 0L)
          .and(ex.compare(VectorOperators.LT, 0x7ffL)).cast(D);
      DoubleVector m = bits.and(0x000fffffffffffffL).or(0x3ff0000000000000L)
          .reinterpretAsDoubles();
      // e = ex − 1023 as a double: the bits of 2^52 + ex, minus 2^52 + 1023
      DoubleVector e = ex.or(0x4330000000000000L).reinterpretAsDoubles().sub(0x1p52 + 1023);
      VectorMask<Double> big = m.compare(VectorOperators.GT, SQRT2);
      m = m.blend(m.mul(0.5), big);
      e = e.blend(e.add(1.0), big);
      DoubleVector s = m.sub(1.0).div(m.add(1.0));
      DoubleVector s2 = s.mul(s);
      DoubleVector q = DoubleVector.broadcast(D, 1.0 / 21);
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 19));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 17));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 15));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 13));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 11));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 9));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 7));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 5));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0 / 3));
      q = q.fma(s2, DoubleVector.broadcast(D, 1.0));
      DoubleVector lnm = s.mul(2.0).mul(q);
      e.fma(DoubleVector.broadcast(D, LN2), lnm).mul(y).blend(Double.NaN, ok.not())
          .intoArray(x, k);
    }
  }

  /** z[k] := e^z[k] for k in [0, n) (n a multiple of L), as {@link RoundedPow#approx}; NaN where |z| &gt; 700. */
  private static void exp(double[] z, int n) {
    for (int k = 0; k < n; k += L) {
      DoubleVector zv = DoubleVector.fromArray(D, z, k);
      VectorMask<Double> ok = zv.abs().compare(VectorOperators.LE, 700.0);
      DoubleVector kr = zv.mul(INV_LN2).add(ROUND);
      DoubleVector kv = kr.sub(ROUND);
      DoubleVector r = kv.neg().fma(DoubleVector.broadcast(D, LN2_HI), zv);
      r = kv.neg().fma(DoubleVector.broadcast(D, LN2_LO), r);
      DoubleVector p = DoubleVector.broadcast(D, 1.0 / 6227020800.0);
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 479001600.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 39916800.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 3628800.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 362880.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 40320.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 5040.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 720.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 120.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 24.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0 / 6.0));
      p = p.fma(r, DoubleVector.broadcast(D, 0.5));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0));
      p = p.fma(r, DoubleVector.broadcast(D, 1.0));
      // 2^k: k is the low bits of kr's representation
      DoubleVector two = kr.reinterpretAsLongs().sub(ROUND_BITS - 1023)
          .lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
      p.mul(two).blend(Double.NaN, ok.not()).intoArray(z, k);
    }
  }

  /**
   * x[k] := |a_{c+k} − t_{c+k}| in double for k in [0, n). A scalar loop: the floats are widened
   * one by one (exactly), so no float vector of another shape than the kernels' is ever created.
   */
  private static void absDiff(float[] a, float[] t, int c, int n, double[] x) {
    for (int k = 0; k < n; k++) {
      x[k] = Math.abs((double) a[c + k] - t[c + k]);
    }
  }

  /** d[k] := a_{c+k} − t_{c+k} and x[k] := |d[k]| in double for k in [0, n) (scalar, as above). */
  private static void signedDiff(float[] a, float[] t, int c, int n, double[] d, double[] x) {
    for (int k = 0; k < n; k++) {
      double v = (double) a[c + k] - t[c + k];
      d[k] = v;
      x[k] = Math.abs(v);
    }
  }

  /** tc[k] := 2h_{c+k} − 1 and x[k] := |tc[k]| in double for k in [0, n) (scalar, as above). */
  private static void centred(float[] h, int c, int n, double[] tc, double[] x) {
    for (int k = 0; k < n; k++) {
      double v = (double) h[c + k] * 2.0 - 1.0;
      tc[k] = v;
      x[k] = Math.abs(v);
    }
  }

  /** buf[k] := approx(buf[k], y) for k in [0, n): the ln stage, then the exp stage. */
  private static void pow(double[] buf, int n, double y) {
    lnTimes(buf, n, y);
    exp(buf, n);
  }

  /**
   * Σ approx(|a_i − t_i|, p) over [from, to) (zero differences add 0), in any order: the
   * approximate sum {@link RoundedPow#lossMean} bounds; NaN when an element is outside the fast
   * range.
   */
  static double approxSum(float[] a, float[] t, int from, int to, double p) {
    int end = from + (to - from) / L * L;
    int cap = Math.min(CHUNK, end - from);
    double[] x = new double[cap];
    double[] pw = new double[cap];
    double[] acc = new double[L];
    for (int c = from; c < end; c += CHUNK) {
      int n = Math.min(CHUNK, end - c);
      absDiff(a, t, c, n, x);
      System.arraycopy(x, 0, pw, 0, n);
      pow(pw, n, p);
      if (!accumulatePowers(x, pw, n, acc)) {
        return Double.NaN;
      }
    }
    double s = 0;
    for (double v : acc) {
      s += v;
    }
    double tail = RoundedPow.approxSum(a, t, end, to, p);
    return s + tail;
  }

  /**
   * acc[l] += the powers pw of the chunk (0 where the difference x is 0), lane by lane; false
   * when one is NaN (outside the fast range).
   */
  private static boolean accumulatePowers(double[] x, double[] pw, int n, double[] acc) {
    DoubleVector s = DoubleVector.fromArray(D, acc, 0);
    for (int k = 0; k < n; k += L) {
      DoubleVector v = DoubleVector.fromArray(D, pw, k)
          .blend(0.0, DoubleVector.fromArray(D, x, k).compare(VectorOperators.EQ, 0.0));
      if (v.test(VectorOperators.IS_NAN).anyTrue()) {
        return false;
      }
      s = s.add(v);
    }
    s.intoArray(acc, 0);
    return true;
  }

  /**
   * {@link RoundedPow#lossGrad} on lanes: da[i] += the definition's float, i in [from, to).
   * Needs p &gt; 1 (0^(p−1) = 0).
   */
  static void lossGrad(float[] da, float[] a, float[] t, int from, int to, double p,
      double scale) {
    double y = p - 1;
    int end = from + (to - from) / L * L;
    int cap = Math.min(CHUNK, end - from);
    double[] d = new double[cap];
    double[] pw = new double[cap];
    double[] lo = new double[cap];
    double[] hi = new double[cap];
    for (int c = from; c < end; c += CHUNK) {
      int n = Math.min(CHUNK, end - c);
      signedDiff(a, t, c, n, d, pw);
      pow(pw, n, y);
      lossGradBounds(n, p, scale, d, pw, lo, hi);
      lossGradStore(da, a, t, c, n, p, y, scale, lo, hi);
    }
    RoundedPow.lossGrad(da, a, t, end, to, p, scale);
  }

  /**
   * The vector stage of {@link #lossGrad}: v = p·pw·sign(d)·scale (0 where d = 0) and its
   * rounding interval lo = v − |v|·TOL, hi = v + |v|·TOL, for k in [0, n).
   */
  private static void lossGradBounds(int n, double p, double scale, double[] d, double[] pw,
      double[] lo, double[] hi) {
    for (int k = 0; k < n; k += L) {
      DoubleVector dv0 = DoubleVector.fromArray(D, d, k);
      VectorMask<Double> zero = dv0.compare(VectorOperators.EQ, 0.0);
      // Math.signum: d where d is ±0, else ±1 with d's sign
      DoubleVector sign = DoubleVector.broadcast(D, 1.0).reinterpretAsLongs()
          .or(dv0.reinterpretAsLongs().and(Long.MIN_VALUE)).reinterpretAsDoubles()
          .blend(dv0, zero);
      DoubleVector v = DoubleVector.fromArray(D, pw, k).blend(0.0, zero).mul(p).mul(sign)
          .mul(scale);
      DoubleVector dv = v.abs().mul(RoundedPow.TOL);
      v.sub(dv).intoArray(lo, k);
      v.add(dv).intoArray(hi, k);
    }
  }

  /**
   * The scalar stage of {@link #lossGrad}: da[c+k] += (float) lo[k] where lo and hi round to the
   * same float, else the StrictMath definition (NaN lanes, outside the fast range, compare
   * unequal).
   */
  private static void lossGradStore(float[] da, float[] a, float[] t, int c, int n, double p,
      double y, double scale, double[] lo, double[] hi) {
    for (int k = 0; k < n; k++) {
      float l = (float) lo[k];
      if (!(l == (float) hi[k])) {
        l = RoundedPow.lossGradExact((double) a[c + k] - t[c + k], p, y, scale);
      }
      da[c + k] += l;
    }
  }

  /**
   * pw[k] := |2h − 1|^y with the exact 1 and 0 where |2h − 1| (in x) is 1 or 0, for k in [0, n);
   * NaN where undefined.
   */
  private static void rectify(double[] x, double[] pw, int n) {
    for (int k = 0; k < n; k += L) {
      DoubleVector a = DoubleVector.fromArray(D, x, k);
      DoubleVector.fromArray(D, pw, k).blend(1.0, a.compare(VectorOperators.EQ, 1.0))
          .blend(0.0, a.compare(VectorOperators.EQ, 0.0)).intoArray(pw, k);
    }
  }

  /** {@link RoundedPow.RegularizerSums} on lanes. */
  static boolean regularizerSums(float[] h, int from, int to, double beta, double[] sums) {
    int end = from + (to - from) / L * L;
    int cap = Math.min(CHUNK, end - from);
    double[] x = new double[cap];
    double[] tc = new double[cap];
    double[] pw = new double[cap];
    double[] acc = new double[2 * L];
    for (int c = from; c < end; c += CHUNK) {
      int n = Math.min(CHUNK, end - c);
      centred(h, c, n, tc, x);
      System.arraycopy(x, 0, pw, 0, n);
      pow(pw, n, beta);
      rectify(x, pw, n);
      if (!accumulateRegularizer(pw, n, acc)) {
        return false;
      }
    }
    if (!RoundedPow.regularizerSums(h, end, to, beta, sums)) {
      return false;
    }
    for (int l = 0; l < L; l++) {
      sums[0] += acc[l];
    }
    for (int l = 0; l < L; l++) {
      sums[1] += acc[L + l];
    }
    return true;
  }

  /** acc[0, L) += 1 − pw and acc[L, 2L) += pw, lane by lane; false when a power is NaN. */
  private static boolean accumulateRegularizer(double[] pw, int n, double[] acc) {
    DoubleVector s = DoubleVector.fromArray(D, acc, 0);
    DoubleVector ps = DoubleVector.fromArray(D, acc, L);
    for (int k = 0; k < n; k += L) {
      DoubleVector v = DoubleVector.fromArray(D, pw, k);
      if (v.test(VectorOperators.IS_NAN).anyTrue()) {
        return false;
      }
      s = s.add(DoubleVector.broadcast(D, 1.0).sub(v));
      ps = ps.add(v);
    }
    s.intoArray(acc, 0);
    ps.intoArray(acc, L);
    return true;
  }

  /**
   * {@link RoundedPow#regularizerGrad} on lanes: for i in [from, to) with dh[i] ≠ 0,
   * dAlpha[i] += the definition's float. Needs β &gt; 1.
   */
  static void regularizerGrad(float[] dAlpha, float[] h, double[] dh, int from, int to,
      double lambda, double beta, double gradOut) {
    double y = beta - 1.0;
    double gl = gradOut * lambda;
    int end = from + (to - from) / L * L;
    int cap = Math.min(CHUNK, end - from);
    double[] x = new double[cap];
    double[] tc = new double[cap];
    double[] pw = new double[cap];
    double[] lo = new double[cap];
    double[] hi = new double[cap];
    for (int c = from; c < end; c += CHUNK) {
      int n = Math.min(CHUNK, end - c);
      centred(h, c, n, tc, x);
      System.arraycopy(x, 0, pw, 0, n);
      pow(pw, n, y);
      rectify(x, pw, n);
      regularizerGradBounds(dh, c, n, beta, gl, tc, pw, lo, hi);
      regularizerGradStore(dAlpha, h, dh, c, n, lambda, beta, gradOut, y, lo, hi);
    }
    RoundedPow.regularizerGrad(dAlpha, h, dh, end, to, lambda, beta, gradOut);
  }

  /**
   * The vector stage of {@link #regularizerGrad}: v = −β·pw·sign(tc)·2·gl·dh and its rounding
   * interval [v − |v|·TOL, v + |v|·TOL] into lo and hi, for k in [0, n).
   */
  private static void regularizerGradBounds(double[] dh, int c, int n, double beta, double gl,
      double[] tc, double[] pw, double[] lo, double[] hi) {
    for (int k = 0; k < n; k += L) {
      DoubleVector dhv = DoubleVector.fromArray(D, dh, c + k);
      DoubleVector t = DoubleVector.fromArray(D, tc, k);
      DoubleVector sign = DoubleVector.broadcast(D, 1.0).reinterpretAsLongs()
          .or(t.reinterpretAsLongs().and(Long.MIN_VALUE)).reinterpretAsDoubles()
          .blend(t, t.compare(VectorOperators.EQ, 0.0));
      DoubleVector v = DoubleVector.fromArray(D, pw, k).mul(-beta).mul(sign).mul(2.0)
          .mul(gl).mul(dhv);
      DoubleVector dv = v.abs().mul(RoundedPow.TOL);
      v.sub(dv).intoArray(lo, k);
      v.add(dv).intoArray(hi, k);
    }
  }

  /**
   * The scalar stage of {@link #regularizerGrad}: for dh ≠ 0, dAlpha[c+k] += (float) lo[k] where
   * lo and hi round to the same float, else the StrictMath definition.
   */
  private static void regularizerGradStore(float[] dAlpha, float[] h, double[] dh, int c, int n,
      double lambda, double beta, double gradOut, double y, double[] lo, double[] hi) {
    for (int k = 0; k < n; k++) {
      int i = c + k;
      if (dh[i] == 0.0) {
        continue;
      }
      float l = (float) lo[k];
      if (!(l == (float) hi[k])) {
        l = RoundedPow.regularizerGradExact(2.0 * h[i] - 1.0, dh[i], lambda, beta, gradOut, y);
      }
      dAlpha[i] += l;
    }
  }
}
