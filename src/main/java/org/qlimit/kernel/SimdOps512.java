package org.qlimit.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * TEMPLATE of SimdOps128 and SimdOps256, which tools/gen-simd-ops.sh generates from this file (the
 * species must be a static final constant for C2 to intrinsify it): edit this file, rerun the
 * script, and commit the three together; SimdOpsGeneratedTest fails when a copy differs.
 * Vector loops for FloatVector.SPECIES_512 (16 lanes). Every loop has the operation order of its
 * scalar twin in {@link ScalarKernels}.
 */
final class SimdOps512 extends SimdOps {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_512;
  static final int L = 16;
  /** Number of L-lane vectors that hold the 16 logical reduction lanes. */
  static final int NV = Lanes.N / L;

  SimdOps512() {
    super(L);
  }

  @Override
  int lanes() {
    return L;
  }

  @Override
  void microKernel(int kc, float[] pa, int paOff, float[] b, int bOff, int ldb, float[] c,
      int cOff, int ldc, boolean loadC) {
    FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    if (loadC) {
      c00 = FloatVector.fromArray(S, c, cOff);
      c01 = FloatVector.fromArray(S, c, cOff + L);
      c10 = FloatVector.fromArray(S, c, cOff + ldc);
      c11 = FloatVector.fromArray(S, c, cOff + ldc + L);
      c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
      c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + L);
      c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
      c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + L);
      c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
      c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + L);
      c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
      c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + L);
    } else {
      FloatVector z = FloatVector.zero(S);
      c00 = z; c01 = z; c10 = z; c11 = z; c20 = z; c21 = z;
      c30 = z; c31 = z; c40 = z; c41 = z; c50 = z; c51 = z;
    }
    int bi = bOff;
    int ai = paOff;
    for (int p = 0; p < kc; p++, bi += ldb, ai += MR) {
      FloatVector b0 = FloatVector.fromArray(S, b, bi);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
      FloatVector a = FloatVector.broadcast(S, pa[ai]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, pa[ai + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, pa[ai + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, pa[ai + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, pa[ai + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, pa[ai + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    c00.intoArray(c, cOff);
    c01.intoArray(c, cOff + L);
    c10.intoArray(c, cOff + ldc);
    c11.intoArray(c, cOff + ldc + L);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + L);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + L);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + L);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + L);
  }

  @Override
  void microKernelGather(int kc, float[] pa, int paOff, float[] b, int bBase, int[] koff,
      float[] c, int cOff, int ldc) {
    FloatVector c00 = FloatVector.zero(S);
    FloatVector c01 = FloatVector.zero(S);
    FloatVector c10 = FloatVector.zero(S);
    FloatVector c11 = FloatVector.zero(S);
    FloatVector c20 = FloatVector.zero(S);
    FloatVector c21 = FloatVector.zero(S);
    FloatVector c30 = FloatVector.zero(S);
    FloatVector c31 = FloatVector.zero(S);
    FloatVector c40 = FloatVector.zero(S);
    FloatVector c41 = FloatVector.zero(S);
    FloatVector c50 = FloatVector.zero(S);
    FloatVector c51 = FloatVector.zero(S);
    int ai = paOff;
    for (int p = 0; p < kc; p++, ai += MR) {
      int bi = bBase + koff[p];
      FloatVector b0 = FloatVector.fromArray(S, b, bi);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
      FloatVector a = FloatVector.broadcast(S, pa[ai]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, pa[ai + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, pa[ai + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, pa[ai + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, pa[ai + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, pa[ai + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    c00.intoArray(c, cOff);
    c01.intoArray(c, cOff + L);
    c10.intoArray(c, cOff + ldc);
    c11.intoArray(c, cOff + ldc + L);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + L);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + L);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + L);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + L);
  }

  @Override
  void convWeightTile(int np, float[] xp, int[] qoff, int[] koff, int kOff, float[] dyT, int bOff,
      int ldb, float[] c, int cOff, int ldc) {
    final int k0 = koff[kOff], k1 = koff[kOff + 1], k2 = koff[kOff + 2];
    final int k3 = koff[kOff + 3], k4 = koff[kOff + 4], k5 = koff[kOff + 5];
    FloatVector c00 = FloatVector.fromArray(S, c, cOff);
    FloatVector c01 = FloatVector.fromArray(S, c, cOff + L);
    FloatVector c10 = FloatVector.fromArray(S, c, cOff + ldc);
    FloatVector c11 = FloatVector.fromArray(S, c, cOff + ldc + L);
    FloatVector c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
    FloatVector c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + L);
    FloatVector c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
    FloatVector c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + L);
    FloatVector c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
    FloatVector c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + L);
    FloatVector c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
    FloatVector c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + L);
    int bi = bOff;
    for (int p = 0; p < np; p++, bi += ldb) {
      int q = qoff[p];
      FloatVector b0 = FloatVector.fromArray(S, dyT, bi);
      FloatVector b1 = FloatVector.fromArray(S, dyT, bi + L);
      FloatVector a = FloatVector.broadcast(S, xp[q + k0]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, xp[q + k1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, xp[q + k2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, xp[q + k3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, xp[q + k4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, xp[q + k5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    c00.intoArray(c, cOff);
    c01.intoArray(c, cOff + L);
    c10.intoArray(c, cOff + ldc);
    c11.intoArray(c, cOff + ldc + L);
    c20.intoArray(c, cOff + 2 * ldc);
    c21.intoArray(c, cOff + 2 * ldc + L);
    c30.intoArray(c, cOff + 3 * ldc);
    c31.intoArray(c, cOff + 3 * ldc + L);
    c40.intoArray(c, cOff + 4 * ldc);
    c41.intoArray(c, cOff + 4 * ldc + L);
    c50.intoArray(c, cOff + 5 * ldc);
    c51.intoArray(c, cOff + 5 * ldc + L);
  }

  @Override
  void convDataTile(int kc, float[] pa, int paOff, float[] b, int bOff, int ldb, float[] c,
      int cOff, int ldc, boolean[] valid, int vOff) {
    FloatVector z = FloatVector.zero(S);
    FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    FloatVector c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    int bi = bOff;
    int ai = paOff;
    for (int p = 0; p < kc; p++, bi += ldb, ai += MR) {
      FloatVector b0 = FloatVector.fromArray(S, b, bi);
      FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
      FloatVector a = FloatVector.broadcast(S, pa[ai]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, pa[ai + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, pa[ai + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, pa[ai + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, pa[ai + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, pa[ai + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    VectorMask<Float> m0 = VectorMask.fromArray(S, valid, vOff);
    VectorMask<Float> m1 = VectorMask.fromArray(S, valid, vOff + L);
    FloatVector.fromArray(S, c, cOff).add(c00, m0).intoArray(c, cOff);
    FloatVector.fromArray(S, c, cOff + L).add(c01, m1).intoArray(c, cOff + L);
    FloatVector.fromArray(S, c, cOff + ldc).add(c10, m0).intoArray(c, cOff + ldc);
    FloatVector.fromArray(S, c, cOff + ldc + L).add(c11, m1).intoArray(c, cOff + ldc + L);
    int o = cOff + 2 * ldc;
    FloatVector.fromArray(S, c, o).add(c20, m0).intoArray(c, o);
    FloatVector.fromArray(S, c, o + L).add(c21, m1).intoArray(c, o + L);
    o += ldc;
    FloatVector.fromArray(S, c, o).add(c30, m0).intoArray(c, o);
    FloatVector.fromArray(S, c, o + L).add(c31, m1).intoArray(c, o + L);
    o += ldc;
    FloatVector.fromArray(S, c, o).add(c40, m0).intoArray(c, o);
    FloatVector.fromArray(S, c, o + L).add(c41, m1).intoArray(c, o + L);
    o += ldc;
    FloatVector.fromArray(S, c, o).add(c50, m0).intoArray(c, o);
    FloatVector.fromArray(S, c, o + L).add(c51, m1).intoArray(c, o + L);
  }

  @Override
  void copyPanel(float[] dst, int dOff, float[] src, int sOff, int lds, int kc) {
    for (int p = 0; p < kc; p++) {
      int s = sOff + p * lds;
      int d = dOff + p * 2 * L;
      FloatVector.fromArray(S, src, s).intoArray(dst, d);
      FloatVector.fromArray(S, src, s + L).intoArray(dst, d + L);
    }
  }

  // ---------------------------------------------------------------- reductions (16 logical lanes)
  // Logical lane l lives in vector l / L, lane l % L. NV is 1, 2 or 4; unused accumulators stay 0
  // and are never stored.

  @Override
  float sum(float[] x, int off, int len) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = FloatVector.zero(S);
    FloatVector a2 = FloatVector.zero(S);
    FloatVector a3 = FloatVector.zero(S);
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i += Lanes.N) {
      int o = off + i;
      a0 = a0.add(FloatVector.fromArray(S, x, o));
      if (NV > 1) {
        a1 = a1.add(FloatVector.fromArray(S, x, o + L));
        if (NV > 2) {
          a2 = a2.add(FloatVector.fromArray(S, x, o + 2 * L));
          a3 = a3.add(FloatVector.fromArray(S, x, o + 3 * L));
        }
      }
    }
    float[] lanes = new float[Lanes.N];
    a0.intoArray(lanes, 0);
    if (NV > 1) {
      a1.intoArray(lanes, L);
      if (NV > 2) {
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
      }
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      s += x[off + i];
    }
    return s;
  }

  @Override
  float dot(float[] a, float[] b, int len) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = FloatVector.zero(S);
    FloatVector a2 = FloatVector.zero(S);
    FloatVector a3 = FloatVector.zero(S);
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i += Lanes.N) {
      a0 = FloatVector.fromArray(S, a, i).fma(FloatVector.fromArray(S, b, i), a0);
      if (NV > 1) {
        a1 = FloatVector.fromArray(S, a, i + L).fma(FloatVector.fromArray(S, b, i + L), a1);
        if (NV > 2) {
          a2 = FloatVector.fromArray(S, a, i + 2 * L)
              .fma(FloatVector.fromArray(S, b, i + 2 * L), a2);
          a3 = FloatVector.fromArray(S, a, i + 3 * L)
              .fma(FloatVector.fromArray(S, b, i + 3 * L), a3);
        }
      }
    }
    float[] lanes = new float[Lanes.N];
    a0.intoArray(lanes, 0);
    if (NV > 1) {
      a1.intoArray(lanes, L);
      if (NV > 2) {
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
      }
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      s = Math.fma(a[i], b[i], s);
    }
    return s;
  }

  @Override
  float sumSquaredDiff(float[] a, float[] b, int len) {
    FloatVector a0 = FloatVector.zero(S);
    FloatVector a1 = FloatVector.zero(S);
    FloatVector a2 = FloatVector.zero(S);
    FloatVector a3 = FloatVector.zero(S);
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i += Lanes.N) {
      FloatVector d = FloatVector.fromArray(S, a, i).sub(FloatVector.fromArray(S, b, i));
      a0 = d.fma(d, a0);
      if (NV > 1) {
        d = FloatVector.fromArray(S, a, i + L).sub(FloatVector.fromArray(S, b, i + L));
        a1 = d.fma(d, a1);
        if (NV > 2) {
          d = FloatVector.fromArray(S, a, i + 2 * L).sub(FloatVector.fromArray(S, b, i + 2 * L));
          a2 = d.fma(d, a2);
          d = FloatVector.fromArray(S, a, i + 3 * L).sub(FloatVector.fromArray(S, b, i + 3 * L));
          a3 = d.fma(d, a3);
        }
      }
    }
    float[] lanes = new float[Lanes.N];
    a0.intoArray(lanes, 0);
    if (NV > 1) {
      a1.intoArray(lanes, L);
      if (NV > 2) {
        a2.intoArray(lanes, 2 * L);
        a3.intoArray(lanes, 3 * L);
      }
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      float d = a[i] - b[i];
      s = Math.fma(d, d, s);
    }
    return s;
  }

  // ---------------------------------------------------------------- Lp range-search score

  /**
   * The 16 lane sums of {@link LpTerms#sum} over x[off, off+n) (n a multiple of 16), with the
   * fake quantization clamped first (see {@link SimdOps#lpSum}: lo = qmin − z, hi = qmax − z).
   * This method is only the vector loop: C2 compiles it on its own (it is too large to be inlined
   * into the chunk loop), so every Vector API call in it is intrinsified whatever the callers'
   * profiles; each L-lane term is added to the accumulator of its logical lanes, which lives in
   * lanes[] itself. Keeping the accumulators in the array rather than in vector variables
   * carried around the loop costs an L1 load and store per term and makes every vector in the
   * loop one that {@code fromArray} or an operation on such vectors produced. With vectors
   * carried around the loop, C2 (JDK 17) sometimes compiled the stores after the loop as calls
   * once the method had a history of type-check deoptimizations, which boxed the carried
   * vectors on every iteration (a real run then spent up to a third of its time here).
   */
  @Override
  void lpLanes(float[] x, int off, int n, float s, float lo, float hi, float[] lanes) {
    java.util.Arrays.fill(lanes, 0, Lanes.N, 0f);
    FloatVector zero = FloatVector.zero(S);
    FloatVector p5 = FloatVector.broadcast(S, LpTerms.P5);
    FloatVector p4 = FloatVector.broadcast(S, LpTerms.P4);
    FloatVector p3 = FloatVector.broadcast(S, LpTerms.P3);
    FloatVector p2 = FloatVector.broadcast(S, LpTerms.P2);
    FloatVector p1 = FloatVector.broadcast(S, LpTerms.P1);
    FloatVector p0 = FloatVector.broadcast(S, LpTerms.P0);
    for (int i = 0, j = 0; i < n; i += L) {
      FloatVector x0 = FloatVector.fromArray(S, x, off + i);
      // k = rint(clamp(x / s, lo, hi)): compare-and-blend clamps keep a NaN (as Math.min/max do),
      // and |k| ≤ 2^22, so adding and subtracting 1.5·2^23 rounds half to even
      FloatVector v = x0.div(s);
      v = v.blend(lo, v.compare(VectorOperators.LT, lo));
      v = v.blend(hi, v.compare(VectorOperators.GT, hi));
      FloatVector k = v.add(LP_ROUND).sub(LP_ROUND);
      FloatVector d = x0.sub(k.mul(s)).abs();
      // d^2.4 = (d·d) · (m^0.4 · (2^(0.4 r) · 4^q)) with d = m·2^(5q + r); the last factor is
      // exact, so its bits are those of 2^(0.4 r)·2^-24 plus 2·(q + 12) in the exponent field
      IntVector bits = d.reinterpretAsInts();
      IntVector e = bits.lanewise(VectorOperators.LSHR, 23).add(60 - 127);
      IntVector q5 = e.mul(13108).lanewise(VectorOperators.LSHR, 16);
      IntVector r = e.sub(q5.mul(5));
      FloatVector cq = r.broadcast(LP_C0)
          .blend(LP_C1, r.compare(VectorOperators.EQ, 1))
          .blend(LP_C2, r.compare(VectorOperators.EQ, 2))
          .blend(LP_C3, r.compare(VectorOperators.EQ, 3))
          .blend(LP_C4, r.compare(VectorOperators.EQ, 4))
          .add(q5.lanewise(VectorOperators.LSHL, 24))
          .reinterpretAsFloats();
      FloatVector t = bits.and(0x7FFFFF).or(0x3F800000).reinterpretAsFloats().sub(1.5f);
      FloatVector p = t.fma(LpTerms.P7, LpTerms.P6);
      p = p.fma(t, p5);
      p = p.fma(t, p4);
      p = p.fma(t, p3);
      p = p.fma(t, p2);
      p = p.fma(t, p1);
      p = p.fma(t, p0);
      // terms of d < 2^-60 (and of a NaN d) are 0
      FloatVector term = zero.blend(d.mul(d).mul(p.mul(cq)),
          d.compare(VectorOperators.GE, LpTerms.TINY));
      // the accumulator of these logical lanes lives in lanes[j, j + L): no vector is carried
      // from one iteration to the next (see the method comment)
      FloatVector.fromArray(S, lanes, j).add(term).intoArray(lanes, j);
      j = (j + L) & (Lanes.N - 1);
    }
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  void add(float[] y, float[] a, float[] b, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(y, i);
    }
    for (; i < len; i++) {
      y[i] = a[i] + b[i];
    }
  }

  @Override
  void mul(float[] y, float[] a, float[] b, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, a, i).mul(FloatVector.fromArray(S, b, i)).intoArray(y, i);
    }
    for (; i < len; i++) {
      y[i] = a[i] * b[i];
    }
  }

  @Override
  void axpy(float[] y, float alpha, float[] x, int len) {
    FloatVector va = FloatVector.broadcast(S, alpha);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      va.fma(FloatVector.fromArray(S, x, i), FloatVector.fromArray(S, y, i)).intoArray(y, i);
    }
    for (; i < len; i++) {
      y[i] = Math.fma(alpha, x[i], y[i]);
    }
  }

  /** y = min(max(x, lo), hi), lanewise with Math.max/Math.min semantics. */
  @Override
  void clamp(float[] y, float[] x, float lo, float hi, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, x, i).max(lo).min(hi).intoArray(y, i);
    }
    for (; i < len; i++) {
      y[i] = Math.min(Math.max(x[i], lo), hi);
    }
  }

  /** dx += dy where x &gt; lo and not x &gt;= hi (hi = NaN: no upper bound). */
  @Override
  void maskedAdd(float[] dx, float[] dy, float[] x, float lo, float hi, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, i);
      VectorMask<Float> m = xv.compare(VectorOperators.GT, lo)
          .andNot(xv.compare(VectorOperators.GE, hi));
      FloatVector d = FloatVector.fromArray(S, dx, i);
      d.add(FloatVector.fromArray(S, dy, i), m).intoArray(dx, i);
    }
    for (; i < len; i++) {
      if (x[i] > lo && !(x[i] >= hi)) {
        dx[i] += dy[i];
      }
    }
  }

  /** dx[dOff + i] += fma(wv, dy[yOff + i], 0) for i &lt; len. */
  @Override
  void addProductRow(float[] dx, int dOff, float[] dy, int yOff, float wv, int len) {
    FloatVector vw = FloatVector.broadcast(S, wv);
    FloatVector zero = FloatVector.zero(S);
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector v = FloatVector.fromArray(S, dy, yOff + i).fma(vw, zero);
      FloatVector.fromArray(S, dx, dOff + i).add(v).intoArray(dx, dOff + i);
    }
    for (; i < len; i++) {
      dx[dOff + i] += Math.fma(wv, dy[yOff + i], 0f);
    }
  }

  @Override
  void addRow(float[] y, int yOff, float[] x, int xOff, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, y, yOff + i).add(FloatVector.fromArray(S, x, xOff + i))
          .intoArray(y, yOff + i);
    }
    for (; i < len; i++) {
      y[yOff + i] += x[xOff + i];
    }
  }

  @Override
  void addScalar(float[] y, int off, int len, float v) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += L) {
      FloatVector.fromArray(S, y, off + i).add(v).intoArray(y, off + i);
    }
    for (; i < len; i++) {
      y[off + i] += v;
    }
  }

  @Override
  void depthwiseDataRow(float[] dxT, int d0, int stL, float[] dyT, int y0, float[] wT, int wOff,
      int n) {
    FloatVector wv = FloatVector.fromArray(S, wT, wOff);
    FloatVector z = FloatVector.zero(S);
    for (int i = 0, d = d0, y = y0; i < n; i++, d += stL, y += L) {
      FloatVector v = wv.fma(FloatVector.fromArray(S, dyT, y), z);
      FloatVector.fromArray(S, dxT, d).add(v).intoArray(dxT, d);
    }
  }

  @Override
  void depthwiseWeightRow(float[] acc, float[] xT, int x0, int wpL, int stL, float[] dyT, int y0,
      int wo) {
    FloatVector a0 = FloatVector.fromArray(S, acc, 0);
    FloatVector a1 = FloatVector.fromArray(S, acc, L);
    FloatVector a2 = FloatVector.fromArray(S, acc, 2 * L);
    FloatVector a3 = FloatVector.fromArray(S, acc, 3 * L);
    FloatVector a4 = FloatVector.fromArray(S, acc, 4 * L);
    FloatVector a5 = FloatVector.fromArray(S, acc, 5 * L);
    FloatVector a6 = FloatVector.fromArray(S, acc, 6 * L);
    FloatVector a7 = FloatVector.fromArray(S, acc, 7 * L);
    FloatVector a8 = FloatVector.fromArray(S, acc, 8 * L);
    for (int ox = 0, xi = x0, yi = y0; ox < wo; ox++, xi += stL, yi += L) {
      FloatVector g = FloatVector.fromArray(S, dyT, yi);
      int x1 = xi + wpL;
      int x2 = x1 + wpL;
      a0 = g.fma(FloatVector.fromArray(S, xT, xi), a0);
      a1 = g.fma(FloatVector.fromArray(S, xT, xi + L), a1);
      a2 = g.fma(FloatVector.fromArray(S, xT, xi + 2 * L), a2);
      a3 = g.fma(FloatVector.fromArray(S, xT, x1), a3);
      a4 = g.fma(FloatVector.fromArray(S, xT, x1 + L), a4);
      a5 = g.fma(FloatVector.fromArray(S, xT, x1 + 2 * L), a5);
      a6 = g.fma(FloatVector.fromArray(S, xT, x2), a6);
      a7 = g.fma(FloatVector.fromArray(S, xT, x2 + L), a7);
      a8 = g.fma(FloatVector.fromArray(S, xT, x2 + 2 * L), a8);
    }
    a0.intoArray(acc, 0);
    a1.intoArray(acc, L);
    a2.intoArray(acc, 2 * L);
    a3.intoArray(acc, 3 * L);
    a4.intoArray(acc, 4 * L);
    a5.intoArray(acc, 5 * L);
    a6.intoArray(acc, 6 * L);
    a7.intoArray(acc, 7 * L);
    a8.intoArray(acc, 8 * L);
  }

  @Override
  void depthwisePlane(float[] y, int yOff, float[] xp, int wp, float[] w, int wOff, int kh, int kw,
      int ho, int wo, float[] tmp) {
    int woR = (wo + L - 1) / L * L;
    int kk = kh * kw;
    int oy = 0;
    // Four output rows at a time: four independent fma chains per vector position.
    for (; oy + 4 <= ho; oy += 4) {
      for (int ox = 0; ox < woR; ox += L) {
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        // One flat loop over t = ky*kw + kx (nested loops made C2 box the accumulators).
        int xr = oy * wp + ox;
        for (int t = 0, kx = 0; t < kk; t++) {
          FloatVector wv = FloatVector.broadcast(S, w[wOff + t]);
          a0 = FloatVector.fromArray(S, xp, xr).fma(wv, a0);
          a1 = FloatVector.fromArray(S, xp, xr + wp).fma(wv, a1);
          a2 = FloatVector.fromArray(S, xp, xr + 2 * wp).fma(wv, a2);
          a3 = FloatVector.fromArray(S, xp, xr + 3 * wp).fma(wv, a3);
          if (++kx == kw) {
            kx = 0;
            xr += wp - kw + 1;
          } else {
            xr++;
          }
        }
        a0.intoArray(tmp, oy * woR + ox);
        a1.intoArray(tmp, (oy + 1) * woR + ox);
        a2.intoArray(tmp, (oy + 2) * woR + ox);
        a3.intoArray(tmp, (oy + 3) * woR + ox);
      }
    }
    for (; oy < ho; oy++) {
      for (int ox = 0; ox < woR; ox += L) {
        FloatVector a0 = FloatVector.zero(S);
        int xr = oy * wp + ox;
        for (int t = 0, kx = 0; t < kk; t++) {
          a0 = FloatVector.fromArray(S, xp, xr).fma(FloatVector.broadcast(S, w[wOff + t]), a0);
          if (++kx == kw) {
            kx = 0;
            xr += wp - kw + 1;
          } else {
            xr++;
          }
        }
        a0.intoArray(tmp, oy * woR + ox);
      }
    }
    for (int r = 0; r < ho; r++) {
      System.arraycopy(tmp, r * woR, y, yOff + r * wo, wo);
    }
  }

  // ================================================================ activation quantization
  // QDrop's dropping and LSQ fake quantization (elementwise), kept apart from the GEMM and
  // convolution loops above. Scalar twins: ScalarKernels.fakeQuantDropLoop and
  // fakeQuantDropBackwardLoop.


  /**
   * Math.rint lanewise: for |v| &lt; 2^23, (|v| + 2^23) − 2^23 rounds half to even; larger |v|
   * are integers already; the sign is put back bitwise (rint(−0.3) = −0.0).
   */
  private static FloatVector rint(FloatVector v) {
    FloatVector av = v.abs();
    FloatVector r = av.add(0x1p23f).sub(0x1p23f)
        .blend(av, av.compare(VectorOperators.GE, 0x1p23f));
    return r.reinterpretAsInts().or(v.reinterpretAsInts().and(0x80000000)).reinterpretAsFloats();
  }

  @Override
  void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int from, int to, float s, float z,
      int qmin, int qmax) {
    float lo = qmin;
    float hi = qmax;
    int i = from;
    for (int up = from + S.loopBound(to - from); i < up; i += L) {
      FloatVector xv = FloatVector.fromArray(S, x, i);
      FloatVector q = rint(xv.div(s)).add(z).max(lo).min(hi).sub(z).mul(s);
      if (keep != null) {
        q = xv.blend(q, VectorMask.fromArray(S, keep, i));
      }
      q.intoArray(y, i);
    }
    ScalarKernels.fakeQuantDropLoop(y, keep, x, i, to, s, z, qmin, qmax);
  }

  @Override
  void select(float[] out, float[] xq, float[] xfp, boolean[] keep, int from, int len) {
    int j = 0;
    for (int up = S.loopBound(len); j < up; j += L) {
      FloatVector.fromArray(S, xfp, from + j)
          .blend(FloatVector.fromArray(S, xq, from + j), VectorMask.fromArray(S, keep, j))
          .intoArray(out, from + j);
    }
    for (; j < len; j++) {
      out[from + j] = keep[j] ? xq[from + j] : xfp[from + j];
    }
  }

  /**
   * The scalar loop: double lanes would need floats at half the width, a second vector shape of
   * one element type in the process, which makes C2 box the other kernels' vectors
   * (BENCHMARKS.md, "Why vector code ran boxed here").
   */
  @Override
  void squaredDiffGrad(float[] da, float[] a, float[] b, int from, int to, double scale) {
    ScalarKernels.squaredDiffGradLoop(da, a, b, from, to, scale);
  }
}
