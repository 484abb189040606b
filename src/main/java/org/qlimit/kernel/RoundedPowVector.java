package org.qlimit.kernel;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector twin of {@link RoundedPow}'s Lp-loss methods: {@link RoundedPow#approx} on double lanes
 * (the same operations: rint as the add-and-subtract of 1.5·2^52, exact for |z/ln 2| ≤ 1011) and
 * the same rounding test, with the StrictMath definition for the lanes the test does not decide.
 * Its results are those of the definitions, so they do not depend on the lane count; it runs at
 * the CPU's preferred width whatever width the kernels are configured for (as
 * {@link SimdKernels}' Lp sum). RoundedPowTest holds it to the definitions bit for bit.
 */
final class RoundedPowVector {
  private RoundedPowVector() {}

  static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  /** Floats, as many lanes as D (half its bits). */
  static final VectorSpecies<Float> F =
      VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
  static final int L = D.length();

  private static final double SQRT2 = 1.4142135623730951;
  private static final double LN2 = 0x1.62e42fefa39efp-1;
  private static final double INV_LN2 = 0x1.71547652b82fep0;
  private static final double LN2_HI = 0x1.62e42feep-1;
  private static final double LN2_LO = 0x1.a39ef35793c76p-33;
  private static final double ROUND = 0x1.8p52;
  private static final long ROUND_BITS = Double.doubleToRawLongBits(ROUND);

  /** The coefficients of the ln series after its leading 1/21, in Horner order. */
  private static final double[] LN_SERIES = {1.0 / 19, 1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11,
      1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0};
  /** The coefficients of the exp series after its leading 1/13!, in Horner order. */
  private static final double[] EXP_SERIES = {1.0 / 479001600.0, 1.0 / 39916800.0,
      1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0,
      1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0};

  /**
   * x^y for lanes with x &gt; 0 normal, |y·ln x| ≤ 700 ({@link RoundedPow#approx}); NaN in the
   * other lanes. Written as two small steps whose Horner loops run over coefficient tables: C2
   * inlines methods of at most 325 bytecodes into a hot loop, and a vector helper it does not
   * inline passes its vectors boxed, at about 30× the cost.
   */
  private static DoubleVector approx(DoubleVector x, double y) {
    return exp(lnTimes(x, y));
  }

  /** y·ln x for lanes with x &gt; 0 normal (NaN in the others), as {@link RoundedPow#approx}. */
  private static DoubleVector lnTimes(DoubleVector x, double y) {
    LongVector bits = x.reinterpretAsLongs();
    LongVector ex = bits.lanewise(VectorOperators.LSHR, 52);
    VectorMask<Double> ok = ex.compare(VectorOperators.GT, 0L)
        .and(ex.compare(VectorOperators.LT, 0x7ffL)).cast(D);
    DoubleVector m = bits.and(0x000fffffffffffffL).or(0x3ff0000000000000L).reinterpretAsDoubles();
    // e = ex − 1023 as a double: the bits of 2^52 + ex, minus 2^52 + 1023
    DoubleVector e = ex.or(0x4330000000000000L).reinterpretAsDoubles().sub(0x1p52 + 1023);
    VectorMask<Double> big = m.compare(VectorOperators.GT, SQRT2);
    m = m.blend(m.mul(0.5), big);
    e = e.blend(e.add(1.0), big);
    DoubleVector s = m.sub(1.0).div(m.add(1.0));
    DoubleVector s2 = s.mul(s);
    DoubleVector q = DoubleVector.broadcast(D, 1.0 / 21);
    for (double c : LN_SERIES) {
      q = q.fma(s2, DoubleVector.broadcast(D, c));
    }
    DoubleVector lnm = s.mul(2.0).mul(q);
    return e.fma(DoubleVector.broadcast(D, LN2), lnm).mul(y).blend(Double.NaN, ok.not());
  }

  /** e^z for lanes with |z| ≤ 700 (NaN in the others), as {@link RoundedPow#approx}. */
  private static DoubleVector exp(DoubleVector z) {
    VectorMask<Double> ok = z.abs().compare(VectorOperators.LE, 700.0);
    DoubleVector kr = z.mul(INV_LN2).add(ROUND);
    DoubleVector k = kr.sub(ROUND);
    DoubleVector r = k.neg().fma(DoubleVector.broadcast(D, LN2_HI), z);
    r = k.neg().fma(DoubleVector.broadcast(D, LN2_LO), r);
    DoubleVector p = DoubleVector.broadcast(D, 1.0 / 6227020800.0);
    for (double c : EXP_SERIES) {
      p = p.fma(r, DoubleVector.broadcast(D, c));
    }
    // 2^k: k is the low bits of kr's representation
    DoubleVector two = kr.reinterpretAsLongs().sub(ROUND_BITS - 1023)
        .lanewise(VectorOperators.LSHL, 52).reinterpretAsDoubles();
    return p.mul(two).blend(Double.NaN, ok.not());
  }

  /** |a − t| over lanes i..i+L−1, in double, and its sign for signum. */
  private static DoubleVector diff(float[] a, float[] t, int i) {
    DoubleVector av = (DoubleVector) FloatVector.fromArray(F, a, i)
        .convertShape(VectorOperators.F2D, D, 0);
    DoubleVector tv = (DoubleVector) FloatVector.fromArray(F, t, i)
        .convertShape(VectorOperators.F2D, D, 0);
    return av.sub(tv);
  }

  /**
   * Σ approx(|a_i − t_i|, p) over [from, to) (zero differences add 0), in any order: the
   * approximate sum {@link RoundedPow#lossMean} bounds; NaN when an element is outside the fast
   * range.
   */
  static double approxSum(float[] a, float[] t, int from, int to, double p) {
    DoubleVector acc = DoubleVector.zero(D);
    int i = from;
    for (; i + L <= to; i += L) {
      DoubleVector x = diff(a, t, i).abs();
      VectorMask<Double> zero = x.compare(VectorOperators.EQ, 0.0);
      DoubleVector pw = approx(x, p).blend(0.0, zero);
      if (pw.test(VectorOperators.IS_NAN).anyTrue()) {
        return Double.NaN;
      }
      acc = acc.add(pw);
    }
    double[] lanes = new double[L];
    acc.intoArray(lanes, 0);
    double s = 0;
    for (double v : lanes) {
      s += v;
    }
    double tail = RoundedPow.approxSum(a, t, i, to, p);
    return s + tail;
  }

  /**
   * Elements per pass of the two-pass gradients: the powers of a chunk go to a buffer of this
   * many doubles (4 KiB), read back by the second pass while they are in L1. Each pass is its
   * own small loop, so C2 compiles every vector operation of both as an intrinsic; one loop
   * holding both passes outgrows C2's inlining budget and runs the last operations boxed.
   */
  private static final int CHUNK = 512;

  /**
   * {@link RoundedPow#lossGrad} on lanes: da[i] += the definition's float, i in [from, to).
   * Needs p &gt; 1 (0^(p−1) = 0).
   */
  static void lossGrad(float[] da, float[] a, float[] t, int from, int to, double p,
      double scale) {
    double y = p - 1;
    int end = from + (to - from) / L * L;
    double[] pw = new double[Math.min(CHUNK, end - from)];
    float[] tmp = new float[2 * L];
    for (int c = from; c < end; c += CHUNK) {
      int ce = Math.min(c + CHUNK, end);
      lossPowers(a, t, c, ce, y, pw);
      lossGradChunk(da, a, t, c, ce, p, y, scale, pw, tmp);
    }
    RoundedPow.lossGrad(da, a, t, end, to, p, scale);
  }

  /** pw[i − c] = approx(|a_i − t_i|, y), 0 where a_i = t_i, for i in [c, ce) (whole vectors). */
  private static void lossPowers(float[] a, float[] t, int c, int ce, double y, double[] pw) {
    for (int i = c; i < ce; i += L) {
      DoubleVector x = diff(a, t, i).abs();
      approx(x, y).blend(0.0, x.compare(VectorOperators.EQ, 0.0)).intoArray(pw, i - c);
    }
  }

  /** The second pass of {@link #lossGrad} over [c, ce), from the powers in pw. */
  private static void lossGradChunk(float[] da, float[] a, float[] t, int c, int ce, double p,
      double y, double scale, double[] pw, float[] tmp) {
    for (int i = c; i < ce; i += L) {
      DoubleVector d = diff(a, t, i);
      // Math.signum: d where d is ±0, else ±1 with d's sign
      DoubleVector sign = DoubleVector.broadcast(D, 1.0).reinterpretAsLongs()
          .or(d.reinterpretAsLongs().and(Long.MIN_VALUE)).reinterpretAsDoubles()
          .blend(d, d.compare(VectorOperators.EQ, 0.0));
      DoubleVector v = DoubleVector.fromArray(D, pw, i - c).mul(p).mul(sign).mul(scale);
      DoubleVector dv = v.abs().mul(RoundedPow.TOL);
      FloatVector lo = (FloatVector) v.sub(dv).convertShape(VectorOperators.D2F, F, 0);
      FloatVector hi = (FloatVector) v.add(dv).convertShape(VectorOperators.D2F, F, 0);
      // NaN lanes (outside the fast range) compare unequal
      VectorMask<Float> ok = lo.compare(VectorOperators.EQ, hi);
      if (!ok.allTrue()) {
        lo.intoArray(tmp, 0);
        hi.intoArray(tmp, L);
        lossGradExact(a, t, i, p, y, scale, tmp);
        lo = FloatVector.fromArray(F, tmp, 0);
      }
      FloatVector.fromArray(F, da, i).add(lo).intoArray(da, i);
    }
  }

  /**
   * Replaces, in tmp[0, L) (lo; tmp[L, 2L) holds hi), the lanes the rounding test left undecided
   * (lo ≠ hi, NaN included) by the StrictMath definition. Vectors and masks stay out of this
   * rare path's signature: passing them would box them on every iteration of the caller.
   */
  private static void lossGradExact(float[] a, float[] t, int i, double p, double y,
      double scale, float[] tmp) {
    for (int l = 0; l < L; l++) {
      if (!(tmp[l] == tmp[L + l])) {
        double dl = (double) a[i + l] - t[i + l];
        tmp[l] = (float) (p * StrictMath.pow(Math.abs(dl), y) * Math.signum(dl) * scale);
      }
    }
  }

  /** 2h − 1 over lanes i..i+L−1, in double. */
  private static DoubleVector centred(float[] h, int i) {
    DoubleVector hv = (DoubleVector) FloatVector.fromArray(F, h, i)
        .convertShape(VectorOperators.F2D, D, 0);
    return hv.mul(2.0).sub(1.0);
  }

  /** |2h − 1|^y with the exact 1 and 0 where |2h − 1| is 1 or 0; NaN where undefined. */
  private static DoubleVector rectifiedPow(DoubleVector a, double y) {
    return approx(a, y).blend(1.0, a.compare(VectorOperators.EQ, 1.0))
        .blend(0.0, a.compare(VectorOperators.EQ, 0.0));
  }

  /** {@link RoundedPow.RegularizerSums} on lanes. */
  static boolean regularizerSums(float[] h, int from, int to, double beta, double[] sums) {
    DoubleVector s = DoubleVector.zero(D);
    DoubleVector ps = DoubleVector.zero(D);
    int i = from;
    for (; i + L <= to; i += L) {
      DoubleVector pw = rectifiedPow(centred(h, i).abs(), beta);
      if (pw.test(VectorOperators.IS_NAN).anyTrue()) {
        return false;
      }
      s = s.add(DoubleVector.broadcast(D, 1.0).sub(pw));
      ps = ps.add(pw);
    }
    if (!RoundedPow.regularizerSums(h, i, to, beta, sums)) {
      return false;
    }
    double[] lanes = new double[L];
    s.intoArray(lanes, 0);
    for (double v : lanes) {
      sums[0] += v;
    }
    ps.intoArray(lanes, 0);
    for (double v : lanes) {
      sums[1] += v;
    }
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
    double[] pw = new double[Math.min(CHUNK, end - from)];
    float[] tmp = new float[2 * L];
    for (int c = from; c < end; c += CHUNK) {
      int ce = Math.min(c + CHUNK, end);
      for (int i = c; i < ce; i += L) {
        rectifiedPow(centred(h, i).abs(), y).intoArray(pw, i - c);
      }
      regularizerGradChunk(dAlpha, h, dh, c, ce, lambda, beta, gradOut, gl, y, pw, tmp);
    }
    RoundedPow.regularizerGrad(dAlpha, h, dh, end, to, lambda, beta, gradOut);
  }

  /**
   * The second pass of {@link #regularizerGrad} over [c, ce), from the powers in pw. Lanes with
   * dh = 0 add −0.0, which leaves every float (−0.0 and NaN included) as it is.
   */
  private static void regularizerGradChunk(float[] dAlpha, float[] h, double[] dh, int c, int ce,
      double lambda, double beta, double gradOut, double gl, double y, double[] pw,
      float[] tmp) {
    for (int i = c; i < ce; i += L) {
      DoubleVector dhv = DoubleVector.fromArray(D, dh, i);
      VectorMask<Double> skip = dhv.compare(VectorOperators.EQ, 0.0);
      if (skip.allTrue()) {
        continue;
      }
      DoubleVector t = centred(h, i);
      DoubleVector sign = DoubleVector.broadcast(D, 1.0).reinterpretAsLongs()
          .or(t.reinterpretAsLongs().and(Long.MIN_VALUE)).reinterpretAsDoubles()
          .blend(t, t.compare(VectorOperators.EQ, 0.0));
      DoubleVector v = DoubleVector.fromArray(D, pw, i - c).mul(-beta).mul(sign).mul(2.0)
          .mul(gl).mul(dhv).blend(-0.0, skip);
      DoubleVector dv = v.abs().mul(RoundedPow.TOL);
      FloatVector lo = (FloatVector) v.sub(dv).convertShape(VectorOperators.D2F, F, 0);
      FloatVector hi = (FloatVector) v.add(dv).convertShape(VectorOperators.D2F, F, 0);
      VectorMask<Float> ok = lo.compare(VectorOperators.EQ, hi);
      if (!ok.allTrue()) {
        lo.intoArray(tmp, 0);
        hi.intoArray(tmp, L);
        regularizerGradExact(h, dh, i, lambda, beta, gradOut, y, tmp);
        lo = FloatVector.fromArray(F, tmp, 0);
      }
      FloatVector.fromArray(F, dAlpha, i).add(lo).intoArray(dAlpha, i);
    }
  }

  /** {@link #lossGradExact} for {@link #regularizerGrad}. */
  private static void regularizerGradExact(float[] h, double[] dh, int i, double lambda,
      double beta, double gradOut, double y, float[] tmp) {
    for (int l = 0; l < L; l++) {
      if (!(tmp[l] == tmp[L + l])) {
        double tl = 2.0 * h[i + l] - 1.0;
        double dReg = -beta * StrictMath.pow(Math.abs(tl), y) * Math.signum(tl) * 2.0;
        tmp[l] = (float) (gradOut * lambda * dReg * dh[i + l]);
      }
    }
  }
}
