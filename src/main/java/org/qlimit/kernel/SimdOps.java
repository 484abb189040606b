package org.qlimit.kernel;

import org.qlimit.util.Parallel;

/**
 * Width-independent part of the SIMD path: the GEMM driver (blocking, packing, threading, edge
 * tiles) and im2col/col2im. The vector loops live in the subclasses {@code SimdOps128/256/512},
 * one per species, because the Vector API only compiles to machine vectors when the species is a
 * {@code static final} constant.
 *
 * <p>GEMM contract: c (m×n, row-major at cOff) = A·B (+ c when accumulating), with
 * A(i,p) = a[aOff + i*k + p] (or a[aOff + p*m + i] when transA) and B(p,j) = b[bOff + p*n + j]
 * (or b[bOff + j*k + p] when transB). Each c element accumulates its k products in increasing p with
 * fma; k is cut into blocks of {@link #KC}, and between blocks the partial sum is stored in c and
 * reloaded, which does not change any bit. Work is split across threads by column chunks (evened
 * out, and a multiple of the thread count when there are enough column panels) and otherwise by
 * row ranges: outputs only, never the reduction.
 *
 * <p>Scratch space (packed panels, im2col columns) comes from per-thread buffers that grow on
 * demand and are reused, so steady-state calls allocate nothing.
 */
abstract class SimdOps {
  /** Rows of the register tile. */
  static final int MR = 6;
  /** Depth of one k block (packed A/B panels hold KC rows of k). */
  static final int KC = 256;
  /** Rows of A packed at once (a multiple of MR). */
  static final int MC = 96;
  /** Columns of C per parallel chunk (a multiple of every NR). */
  static final int NC = 512;
  /** With B not transposed and m at most this, B is read in place instead of packed. */
  static final int PACK_B_MIN_M = 48;

  /** Columns of the register tile: two vectors. */
  final int nr;

  SimdOps(int lanes) {
    this.nr = 2 * lanes;
  }

  abstract int lanes();

  /**
   * The register tile: c[cOff + r*ldc + j] (r &lt; MR, j &lt; nr) = fma-chain over p &lt; kc of
   * pa[paOff + p*MR + r] · b[bOff + p*ldb + j], starting from c (loadC) or from 0.
   */
  abstract void microKernel(int kc, float[] pa, int paOff, float[] b, int bOff, int ldb, float[] c,
      int cOff, int ldc, boolean loadC);

  /**
   * The register tile of {@link #convForwardPadded}: c[cOff + r*ldc + j] (r &lt; MR, j &lt; nr) =
   * fma-chain over p &lt; kc of pa[paOff + p*MR + r] · b[bBase + koff[p] + j], starting from 0.
   */
  abstract void microKernelGather(int kc, float[] pa, int paOff, float[] b, int bBase, int[] koff,
      float[] c, int cOff, int ldc);

  /**
   * The register tile of the direct backward-weight ({@link SimdKernels#conv2dBackwardWeight}):
   * for r &lt; MR and j &lt; nr, c[cOff + r*ldc + j] = fma chain over p &lt; np, in increasing p,
   * starting from its current value, of xp[qoff[p] + koff[kOff + r]] · dyT[bOff + p*ldb + j].
   * Rows are reduction indices k = (ci, ky, kx) of the padded input planes xp (koff from
   * {@link #patchOffsets}), columns are output channels (dyT: positions × channels).
   */
  abstract void convWeightTile(int np, float[] xp, int[] qoff, int[] koff, int kOff, float[] dyT,
      int bOff, int ldb, float[] c, int cOff, int ldc);

  /**
   * The register tile of the direct backward-data ({@link SimdKernels#conv2dBackwardData}): for
   * r &lt; MR and j &lt; nr, v = fma chain over p &lt; kc, in increasing p, starting from 0, of
   * pa[paOff + p*MR + r] · b[bOff + p*ldb + j]; then c[cOff + r*ldc + j] += v where
   * valid[vOff + j], c unchanged elsewhere.
   */
  abstract void convDataTile(int kc, float[] pa, int paOff, float[] b, int bOff, int ldb,
      float[] c, int cOff, int ldc, boolean[] valid, int vOff);

  /** dst[dOff + p*nr + j] = src[sOff + p*lds + j] for p &lt; kc, j &lt; nr (one full B panel). */
  abstract void copyPanel(float[] dst, int dOff, float[] src, int sOff, int lds, int kc);

  abstract float sum(float[] x, int off, int len);

  abstract float dot(float[] a, float[] b, int len);

  abstract float sumSquaredDiff(float[] a, float[] b, int len);

  /**
   * {@link LpTerms#sum} with its early stop at {@code limit}, vectorized: the chunks, lanes and
   * operations of the definition, the 16-lane part of each chunk in {@link #lpLanes}.
   *
   * <p>The vector loop clamps before rounding: with z an integer and |z|, |qmin|, |qmax| ≤ 2^21,
   * {@code clamp(rint(v) + z, qmin, qmax) − z} and {@code rint(clamp(v, qmin − z, qmax − z))}
   * (v = x/s) are the same integer k, or both NaN. For |v| ≤ 2^23 every quantity is an integer
   * below 2^24, so the additions and subtractions of z are exact and rint commutes with the
   * clamp (it is monotone and fixes the integer bounds); beyond, both clamp to the same bound
   * (rint(v) + z keeps the sign of v and exceeds 2^22 in magnitude). Only the sign of a zero k
   * can differ, which leaves d = |x − k·s| unchanged. Other parameters take the scalar
   * definition.
   */
  final double lpSum(float[] x, int off, int len, float s, float z, int qmin, int qmax,
      double limit) {
    if (!(z == Math.rint(z) && Math.abs(z) <= LP_MAX_LEVEL && Math.abs(qmin) <= LP_MAX_LEVEL
        && Math.abs(qmax) <= LP_MAX_LEVEL)) {
      return LpTerms.sum(x, off, len, s, z, qmin, qmax, limit);
    }
    float lo = qmin - z;
    float hi = qmax - z;
    float[] lanes = new float[Lanes.N];
    double total = 0.0;
    for (int c0 = 0; c0 < len; c0 += LpTerms.CHUNK) {
      int n = Math.min(LpTerms.CHUNK, len - c0);
      int full = n - n % Lanes.N;
      int base = off + c0;
      float chunk = 0f;
      if (full > 0) {
        lpLanes(x, base, full, s, lo, hi, lanes);
        chunk = Lanes.sumInOrder(lanes);
      }
      for (int i = full; i < n; i++) {
        float v = x[base + i];
        chunk += LpTerms.term(Math.abs(v - LpTerms.fakeQuant(v, s, z, qmin, qmax)));
      }
      total += chunk;
      if (total > limit) {
        return total;
      }
    }
    return total;
  }

  /** Largest |z|, |qmin|, |qmax| of the vector loop (see {@link #lpSum}). */
  static final float LP_MAX_LEVEL = 0x1p21f;

  /** 1.5·2^23: (v + LP_ROUND) − LP_ROUND = rint(v) for |v| ≤ 2^22. */
  static final float LP_ROUND = 0x1.8p23f;

  /**
   * Bits of LpTerms.C[r] · 2^-24 (r = 0..4). With q5 = q + 12 ≥ 0, the exact product
   * C[r] · 4^q of {@link LpTerms#term} has the bits {@code LP_C[r] + (q5 << 24)}.
   */
  static final int LP_C0 = Float.floatToRawIntBits(LpTerms.C0) - (24 << 23);
  static final int LP_C1 = Float.floatToRawIntBits(LpTerms.C1) - (24 << 23);
  static final int LP_C2 = Float.floatToRawIntBits(LpTerms.C2) - (24 << 23);
  static final int LP_C3 = Float.floatToRawIntBits(LpTerms.C3) - (24 << 23);
  static final int LP_C4 = Float.floatToRawIntBits(LpTerms.C4) - (24 << 23);

  /**
   * Writes to lanes[0..16) the 16 logical lane sums of the Lp terms of x[off, off+n), n a
   * multiple of 16, each lane adding its terms in index order from 0; the fake quantization is
   * {@code k = rint(clamp(x/s, lo, hi))}, {@code x̂ = k·s} (see {@link #lpSum}).
   */
  abstract void lpLanes(float[] x, int off, int n, float s, float lo, float hi, float[] lanes);

  abstract void add(float[] y, float[] a, float[] b, int len);

  abstract void mul(float[] y, float[] a, float[] b, int len);

  abstract void axpy(float[] y, float alpha, float[] x, int len);

  abstract void clamp(float[] y, float[] x, float lo, float hi, int len);

  abstract void maskedAdd(float[] dx, float[] dy, float[] x, float lo, float hi, int len);

  /** dx[dOff + i] += fma(wv, dy[yOff + i], 0) for i &lt; len. */
  abstract void addProductRow(float[] dx, int dOff, float[] dy, int yOff, float wv, int len);

  /** y[yOff + i] += x[xOff + i] for i &lt; len (one add per element). */
  abstract void addRow(float[] y, int yOff, float[] x, int xOff, int len);

  abstract void addScalar(float[] y, int off, int len, float v);

  /**
   * One kernel tap and output row of a depthwise backward-data for {@code lanes()} channels at
   * once, one channel per lane: for i &lt; n, dxT[d0 + i·stL + l] += fma(wT[wOff + l],
   * dyT[y0 + i·L + l], 0), the col2im step of {@link ScalarKernels}' backward-data for the lane's
   * channel (the caller runs the taps and rows in its (ky, kx, oy, ox) order).
   *
   * @param dxT input gradients of the L channels, channel-minor. Modified.
   * @param stL stride·L: floats between the dxT cells of consecutive output positions
   */
  abstract void depthwiseDataRow(float[] dxT, int d0, int stL, float[] dyT, int y0, float[] wT,
      int wOff, int n);

  /**
   * One batch item of a 3×3 depthwise backward-weight for {@code lanes()} channels at once, one
   * channel per lane (channels across the vector lanes): for tap t = ky·3 + kx and lane l,
   * acc[t·L + l] = fma(g, x, acc[t·L + l]) over (oy, ox) in order, g = dyT[(oy·wo + ox)·L + l]
   * and x = xT[((oy·stride + ky)·wp + ox·stride + kx)·L + l]: each lane runs the chains of
   * {@link ScalarKernels}' depthwise backward-weight for its channel, in the same order. One
   * {@link #depthwiseWeightRow} per output row (vectors carried around a single loop only: C2
   * boxes vectors carried around nested loops).
   *
   * @param acc the 9 running sums per lane, tap-major (9·L floats). Modified.
   * @param xT the zero-padded input planes of the L channels, channel-minor (hp·wp·L floats)
   * @param dyT the output gradients of the L channels, channel-minor (ho·wo·L floats)
   */
  final void depthwiseWeightTile(float[] acc, float[] xT, int wp, int stride, float[] dyT,
      int ho, int wo) {
    final int l = lanes();
    for (int oy = 0; oy < ho; oy++) {
      depthwiseWeightRow(acc, xT, oy * stride * wp * l, wp * l, stride * l, dyT, oy * wo * l, wo);
    }
  }

  /**
   * Output row of {@link #depthwiseWeightTile} starting at xT[x0] (tap (0, 0) of its first
   * position) and dyT[y0]: wpL = wp·L, stL = stride·L floats between rows and positions of xT.
   */
  abstract void depthwiseWeightRow(float[] acc, float[] xT, int x0, int wpL, int stL,
      float[] dyT, int y0, int wo);

  /**
   * One plane of a stride-1 depthwise convolution: y[yOff + oy*wo + ox] = fma chain over (ky, kx)
   * of xp[(oy + ky)*wp + ox + kx] · w[wOff + ky*kw + kx], from 0. xp is the zero-padded input plane
   * with at least {@code lanes()} floats of slack after its last row (lanes past wo compute
   * throw-away values); tmp holds ho × roundUp(wo, lanes()) floats.
   */
  abstract void depthwisePlane(float[] y, int yOff, float[] xp, int wp, float[] w, int wOff, int kh,
      int kw, int ho, int wo, float[] tmp);

  // ---------------------------------------------------------------- activation quantization

  /**
   * y[i] = keep[i] ? fq(x[i]) : x[i] over [from, to), the mask already drawn (keep null: y =
   * fq(x)); {@link ScalarKernels#fakeQuantDropLoop}.
   */
  abstract void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int from, int to, float s,
      float z, int qmin, int qmax);

  /** out[from + j] = keep[j] ? xq[from + j] : xfp[from + j] for j in [0, len). */
  abstract void select(float[] out, float[] xq, float[] xfp, boolean[] keep, int from, int len);

  /**
   * {@link ScalarKernels#fakeQuantDropBackwardLoop} over [from, to) in blocks of 256 elements;
   * with {@code sum}, also the index-order double sum of the terms from +0.0, each block's added
   * right after the block (while its terms are in L1). Returns the sum (0.0 without {@code sum}
   * or terms).
   */
  final double fakeQuantDropBackward(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int from, int to, float s, float z, int qmin, int qmax, boolean sum) {
    double acc = 0.0;
    for (int b = from; b < to; b += 256) {
      int e = Math.min(to, b + 256);
      fakeQuantDropBackwardLoop(dx, terms, dy, keep, x, b, e, s, z, qmin, qmax);
      if (sum && terms != null) {
        for (int k = b; k < e; k++) {
          acc += terms[k];
        }
      }
    }
    return acc;
  }

  /**
   * {@link ScalarKernels#fakeQuantDropBackwardLoop} without a branch on the drop mask: whether an
   * element was dropped is random, so the reference's {@code if (!kept)} mispredicts about every
   * other element. The same values, bit for bit: dq keeps the bits of 0f + dy or is +0.0 (an
   * integer mask on its bits), and dx takes the bits of dx or of dx + dy (the select the
   * reference's branch makes), before the in-range add of dq.
   */
  static void fakeQuantDropBackwardLoop(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int from, int to, float s, float z, int qmin, int qmax) {
    for (int i = from; i < to; i++) {
      float dyi = dy[i];
      int kept = keep == null ? -1 : -(keep[i] ? 1 : 0);
      float dq = keep == null ? dyi
          : Float.intBitsToFloat(Float.floatToRawIntBits(0f + dyi) & kept);
      float u = ScalarKernels.actLevel(x[i], s, z);
      if (dx != null) {
        float d = dx[i];
        d = Float.intBitsToFloat((Float.floatToRawIntBits(d) & kept)
            | (Float.floatToRawIntBits(d + dyi) & ~kept));
        if (u >= qmin && u <= qmax) {
          d += dq;
        }
        dx[i] = d;
      }
      if (terms != null) {
        terms[i] = (double) dq * ScalarKernels.actScaleGrad(x[i], u, s, z, qmin, qmax);
      }
    }
  }

  /** {@link ScalarKernels#squaredDiffGradLoop} over [from, to). */
  abstract void squaredDiffGrad(float[] da, float[] a, float[] b, int from, int to,
      double scale);

  // ---------------------------------------------------------------- scratch

  /** Per-thread scratch arrays. */
  static final class Scratch {
    float[] packA = new float[0];
    float[] packB = new float[0];
    float[] tile = new float[0];
    float[] col = new float[0];
    float[] plane = new float[0];
    float[] rows = new float[0];
    float[] dyT = new float[0];
    float[] packW = new float[0];
    float[] ybuf = new float[0];
    int[] koff = new int[0];
    int[] qoff = new int[0];
    boolean[] valid = new boolean[0];

    static float[] grow(float[] a, long need) {
      if (need > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("scratch buffer of " + need + " floats is too large");
      }
      return a.length >= need ? a : new float[(int) need];
    }
  }

  static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  // ---------------------------------------------------------------- GEMM driver

  final void gemm(float[] c, int cOff, float[] a, int aOff, boolean transA, float[] b, int bOff,
      boolean transB, int m, int k, int n, boolean accumulate, int threads) {
    if (m == 0 || n == 0) {
      return;
    }
    if (k == 0) {
      if (!accumulate) {
        for (int i = 0; i < m; i++) {
          java.util.Arrays.fill(c, cOff + i * n, cOff + i * n + n, 0f);
        }
      }
      return;
    }
    final boolean packB = transB || m > PACK_B_MIN_M;
    final int nPanels = (n + nr - 1) / nr;
    // Column chunks of at most NC columns, as even as the panels allow, and a multiple of the
    // thread count when there are enough panels (a 18-panel n no longer splits 16 + 2).
    int chunks = (nPanels + NC / nr - 1) / (NC / nr);
    if (threads > 1 && nPanels >= threads) {
      chunks = Math.min(nPanels, (chunks + threads - 1) / threads * threads);
    }
    final int panelsPerChunk = (nPanels + chunks - 1) / chunks;
    final int colChunks = (nPanels + panelsPerChunk - 1) / panelsPerChunk;
    final int mPanels = (m + MR - 1) / MR;
    final int rowSplit = (threads > 1 && colChunks < threads) ? Math.min(mPanels, threads) : 1;
    final int panelsPerRowSplit = (mPanels + rowSplit - 1) / rowSplit;
    Parallel.forRange(threads, rowSplit * colChunks, (t0, t1) -> {
      Scratch s = SCRATCH.get();
      for (int t = t0; t < t1; t++) {
        int rs = t / colChunks;
        int cc = t % colChunks;
        int i0 = rs * panelsPerRowSplit * MR;
        int i1 = Math.min(m, i0 + panelsPerRowSplit * MR);
        int j0 = cc * panelsPerChunk * nr;
        int j1 = Math.min(n, j0 + panelsPerChunk * nr);
        if (i0 < i1) {
          block(s, c, cOff, a, aOff, transA, b, bOff, transB, m, k, n, accumulate, packB, i0, i1,
              j0, j1);
        }
      }
    });
  }

  /** C[i0..i1, j0..j1) over all k, in k blocks of KC. */
  private void block(Scratch s, float[] c, int cOff, float[] a, int aOff, boolean transA,
      float[] b, int bOff, boolean transB, int m, int k, int n, boolean accumulate, boolean packB,
      int i0, int i1, int j0, int j1) {
    int ncols = j1 - j0;
    int panels = (ncols + nr - 1) / nr;
    int fullPanels = ncols / nr;
    s.packB = Scratch.grow(s.packB, (long) Math.min(KC, k) * panels * nr);
    s.packA = Scratch.grow(s.packA, (long) Math.min(KC, k) * MC);
    s.tile = Scratch.grow(s.tile, (long) MR * nr);
    float[] pb = s.packB;
    float[] pa = s.packA;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = Math.min(KC, k - pc);
      boolean loadC = accumulate || pc > 0;
      // Pack B panels (all of them, or only the ragged last one when B is read in place).
      int firstPacked = packB ? 0 : fullPanels;
      for (int q = firstPacked; q < panels; q++) {
        packB(pb, q * kc * nr, b, bOff, transB, k, n, pc, kc, j0 + q * nr, Math.min(nr,
            j1 - j0 - q * nr));
      }
      for (int ic = i0; ic < i1; ic += MC) {
        int mc = Math.min(MC, i1 - ic);
        int mPan = (mc + MR - 1) / MR;
        for (int r = 0; r < mPan; r++) {
          packA(pa, r * kc * MR, a, aOff, transA, m, k, ic + r * MR, Math.min(MR, mc - r * MR),
              pc, kc);
        }
        for (int q = 0; q < panels; q++) {
          int jq = j0 + q * nr;
          int cols = Math.min(nr, j1 - jq);
          float[] bs;
          int bo;
          int ldb;
          if (packB || q >= fullPanels) {
            bs = pb;
            bo = q * kc * nr;
            ldb = nr;
          } else {
            bs = b;
            bo = bOff + pc * n + jq;
            ldb = n;
          }
          for (int r = 0; r < mPan; r++) {
            int row = ic + r * MR;
            int rows = Math.min(MR, ic + mc - row);
            int ci = cOff + row * n + jq;
            if (rows == MR && cols == nr) {
              microKernel(kc, pa, r * kc * MR, bs, bo, ldb, c, ci, n, loadC);
            } else {
              edgeTile(s.tile, kc, pa, r * kc * MR, bs, bo, ldb, c, ci, n, loadC, rows, cols);
            }
          }
        }
      }
    }
  }

  private void edgeTile(float[] tile, int kc, float[] pa, int paOff, float[] bs, int bo, int ldb,
      float[] c, int ci, int ldc, boolean loadC, int rows, int cols) {
    java.util.Arrays.fill(tile, 0, MR * nr, 0f);
    if (loadC) {
      for (int r = 0; r < rows; r++) {
        System.arraycopy(c, ci + r * ldc, tile, r * nr, cols);
      }
    }
    microKernel(kc, pa, paOff, bs, bo, ldb, tile, 0, nr, loadC);
    for (int r = 0; r < rows; r++) {
      System.arraycopy(tile, r * nr, c, ci + r * ldc, cols);
    }
  }

  /** pa[off + p*MR + r] = A(i0 + r, pc + p), zero for r ≥ rows. */
  private static void packA(float[] pa, int off, float[] a, int aOff, boolean transA, int m, int k,
      int i0, int rows, int pc, int kc) {
    if (!transA && rows == MR) {
      // Full panel of row-major A: six sequential row streams.
      for (int r = 0; r < MR; r++) {
        int src = aOff + (i0 + r) * k + pc;
        for (int p = 0; p < kc; p++) {
          pa[off + p * MR + r] = a[src + p];
        }
      }
      return;
    }
    if (transA && rows == MR) {
      // Full panel of column-major A: each p is six adjacent floats.
      for (int p = 0; p < kc; p++) {
        System.arraycopy(a, aOff + (pc + p) * m + i0, pa, off + p * MR, MR);
      }
      return;
    }
    for (int p = 0; p < kc; p++) {
      int d = off + p * MR;
      for (int r = 0; r < MR; r++) {
        float v = 0f;
        if (r < rows) {
          int i = i0 + r;
          v = transA ? a[aOff + (pc + p) * m + i] : a[aOff + i * k + pc + p];
        }
        pa[d + r] = v;
      }
    }
  }

  /** pb[off + p*nr + jj] = B(pc + p, j0 + jj), zero for jj ≥ cols. */
  private void packB(float[] pb, int off, float[] b, int bOff, boolean transB, int k, int n, int pc,
      int kc, int j0, int cols) {
    if (transB) {
      for (int jj = 0; jj < nr; jj++) {
        if (jj < cols) {
          int src = bOff + (j0 + jj) * k + pc;
          for (int p = 0; p < kc; p++) {
            pb[off + p * nr + jj] = b[src + p];
          }
        } else {
          for (int p = 0; p < kc; p++) {
            pb[off + p * nr + jj] = 0f;
          }
        }
      }
    } else if (cols == nr) {
      copyPanel(pb, off, b, bOff + pc * n + j0, n, kc);
    } else {
      for (int p = 0; p < kc; p++) {
        int src = bOff + (pc + p) * n + j0;
        int d = off + p * nr;
        System.arraycopy(b, src, pb, d, cols);
        java.util.Arrays.fill(pb, d + cols, d + nr, 0f);
      }
    }
  }

  // ---------------------------------------------------------------- direct convolution

  /**
   * Packs the weights of every group for {@link #convForwardPadded}: for group g and row panel
   * rp, pw[(g*panels + rp)*MR*K + p*MR + r] = w[(g*coutG + rp*MR + r)*K + p] with K = cinG·kh·kw,
   * zero for rows past coutG. pw holds groups · ceil(coutG/MR)·MR · K floats. w: Not modified.
   */
  static void packConvWeights(float[] pw, float[] w, ConvShape s) {
    int coutG = s.coutPerGroup();
    int kk = s.cinPerGroup() * s.kh() * s.kw();
    int panels = (coutG + MR - 1) / MR;
    for (int g = 0; g < s.groups(); g++) {
      for (int rp = 0; rp < panels; rp++) {
        int d = (g * panels + rp) * MR * kk;
        for (int r = 0; r < MR; r++) {
          int co = rp * MR + r;
          if (co < coutG) {
            int src = (g * coutG + co) * kk;
            for (int p = 0; p < kk; p++) {
              pw[d + p * MR + r] = w[src + p];
            }
          } else {
            for (int p = 0; p < kk; p++) {
              pw[d + p * MR + r] = 0f;
            }
          }
        }
      }
    }
  }

  /** Floats of the zero-padded input of one group: cinG planes of (h+2·pad)·(w+2·pad), + slack. */
  final long paddedInputFloats(ConvShape s) {
    return (long) s.cinPerGroup() * (s.h() + 2 * s.pad()) * (s.w() + 2 * s.pad()) + nr + s.kw();
  }

  /** Floats of {@link #convForwardPadded}'s output buffer: ceil(coutG/MR)·MR rows of qPad. */
  final long paddedOutputFloats(ConvShape s) {
    int wp = s.w() + 2 * s.pad();
    long qPad = ((long) s.ho() * wp + nr - 1) / nr * nr;
    return (s.coutPerGroup() + MR - 1) / MR * MR * qPad;
  }

  /**
   * Stride-1 convolution of batch item nb, group g, as an implicit GEMM on the zero-padded input
   * (no im2col): y[nb, g*coutG + co, oy, ox] = fma chain over p = (ci, ky, kx) in lexicographic
   * order, from 0, of w[co, p] · xp[ci, oy + ky, ox + kx], where xp is x with pad zeros on every
   * side (hp × wp planes). That is exactly the chain of im2col + GEMM, padded positions included.
   *
   * <p>The output is computed on the padded-width grid q = oy·wp + ox, ox &lt; wp (so the B row of
   * p is the contiguous run xp[koff[p] + q], koff[p] = ci·hp·wp + ky·wp + kx), into ybuf; the
   * columns ox ≥ wo are discarded when the rows are copied into y. The bias is added last
   * (y = acc + bias), as in {@link Kernels#conv2dForward}.
   *
   * @param xp scratch of {@link #paddedInputFloats} floats, all zero outside the interior rows this
   *     method writes (the caller zeroes it once; interiors are overwritten per call)
   * @param pw the weights packed by {@link #packConvWeights}. Not modified.
   * @param koff scratch of at least cinG·kh·kw ints
   * @param ybuf scratch of {@link #paddedOutputFloats} floats
   */
  final void convForwardPadded(float[] y, float[] x, float[] pw, float[] bias, ConvShape s, int nb,
      int g, float[] xp, int[] koff, float[] ybuf) {
    final int coutG = s.coutPerGroup(), ho = s.ho(), wo = s.wo();
    final int wp = s.w() + 2 * s.pad();
    final int kk = s.cinPerGroup() * s.kh() * s.kw();
    final int qTiles = (ho * wp + nr - 1) / nr;
    final int qPad = qTiles * nr;
    final int panels = (coutG + MR - 1) / MR;
    padItem(xp, x, nb, g, s);
    patchOffsets(koff, s);
    for (int rp = 0; rp < panels; rp++) {
      int paOff = (g * panels + rp) * MR * kk;
      for (int qt = 0; qt < qTiles; qt++) {
        microKernelGather(kk, pw, paOff, xp, qt * nr, koff, ybuf, rp * MR * qPad + qt * nr, qPad);
      }
    }
    final int plane = ho * wo;
    for (int co = 0; co < coutG; co++) {
      int yc = (nb * s.cout() + g * coutG + co) * plane;
      for (int oy = 0; oy < ho; oy++) {
        System.arraycopy(ybuf, co * qPad + oy * wp, y, yc + oy * wo, wo);
      }
      if (bias != null) {
        addScalar(y, yc, plane, bias[g * coutG + co]);
      }
    }
  }

  // ---------------------------------------------------------------- im2col / col2im

  /**
   * col (K × P), K = cinG·kh·kw, P = ho·wo: col[(ci*kh + ky)*kw + kx][oy*wo + ox] =
   * x[nb, g*cinG + ci, oy*stride − pad + ky, ox*stride − pad + kx], or 0 in the padding.
   */
  static void im2col(float[] col, float[] x, int nb, int g, ConvShape s) {
    im2col(col, 0, s.ho() * s.wo(), x, nb, g, s);
  }

  /**
   * im2col into a wider matrix: row r of this item's (K × plane) block starts at
   * {@code col[colOff + r·ld]} (ld ≥ plane), so several items can sit side by side.
   */
  static void im2col(float[] col, int colOff, int ld, float[] x, int nb, int g, ConvShape s) {
    int cinG = s.cinPerGroup(), kh = s.kh(), kw = s.kw(), h = s.h(), w = s.w();
    int ho = s.ho(), wo = s.wo(), st = s.stride(), pad = s.pad();
    for (int ci = 0; ci < cinG; ci++) {
      int xc = (nb * s.cin() + g * cinG + ci) * h;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          int row = colOff + ((ci * kh + ky) * kw + kx) * ld;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * st - pad + ky;
            int d = row + oy * wo;
            if (iy < 0 || iy >= h) {
              java.util.Arrays.fill(col, d, d + wo, 0f);
              continue;
            }
            int xr = (xc + iy) * w;
            if (st == 1) {
              // ix = ox - pad + kx is inside [0, w) for ox in [lo, hi)
              int lo = Math.min(wo, Math.max(0, pad - kx));
              int hi = Math.max(lo, Math.min(wo, w + pad - kx));
              java.util.Arrays.fill(col, d, d + lo, 0f);
              System.arraycopy(x, xr + lo - pad + kx, col, d + lo, hi - lo);
              java.util.Arrays.fill(col, d + hi, d + wo, 0f);
              continue;
            }
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * st - pad + kx;
              col[d + ox] = (ix >= 0 && ix < w) ? x[xr + ix] : 0f;
            }
          }
        }
      }
    }
  }

  /** Floats of one group's zero-padded planes ({@link #padItem}): cinG·(h+2·pad)·(w+2·pad). */
  static long paddedPlanesFloats(ConvShape s) {
    return (long) s.cinPerGroup() * (s.h() + 2 * s.pad()) * (s.w() + 2 * s.pad());
  }

  /**
   * Copies group {@code g} of batch item {@code nb} of x (N, Cin, H, W) into the interior of the
   * zero-bordered planes xp (Cin/groups, H + 2·pad, W + 2·pad); the borders are not written.
   *
   * @param xp padded planes, zero borders. Modified (interior).
   */
  static void padItem(float[] xp, float[] x, int nb, int g, ConvShape s) {
    padItem(xp, 0, x, nb, g, s);
  }

  /** {@link #padItem} into the planes starting at xp[xpOff]. */
  static void padItem(float[] xp, int xpOff, float[] x, int nb, int g, ConvShape s) {
    final int cinG = s.cinPerGroup(), h = s.h(), w = s.w(), pad = s.pad();
    final int wp = w + 2 * pad, planeP = (h + 2 * pad) * wp;
    for (int ci = 0; ci < cinG; ci++) {
      int src = (nb * s.cin() + g * cinG + ci) * h * w;
      int dst = xpOff + ci * planeP + pad * wp + pad;
      for (int iy = 0; iy < h; iy++) {
        System.arraycopy(x, src + iy * w, xp, dst + iy * wp, w);
      }
    }
  }

  /**
   * The offset in the padded planes of {@link #padItem} of every reduction index k = (ci, ky,
   * kx), in that order, relative to an output position's top-left input.
   *
   * @param koff output, at least K = Cin/groups · kH · kW ints. Modified.
   */
  static void patchOffsets(int[] koff, ConvShape s) {
    final int cinG = s.cinPerGroup(), kh = s.kh(), kw = s.kw();
    final int wp = s.w() + 2 * s.pad(), planeP = (s.h() + 2 * s.pad()) * wp;
    for (int ci = 0, p = 0; ci < cinG; ci++) {
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++, p++) {
          koff[p] = ci * planeP + ky * wp + kx;
        }
      }
    }
  }

  /**
   * The offset in the padded planes of {@link #padItem} of every output position's top-left input:
   * qoff[oy*wo + ox] = oy·stride·(w + 2·pad) + ox·stride.
   *
   * @param qoff output, at least ho·wo ints. Modified.
   */
  static void positionOffsets(int[] qoff, ConvShape s) {
    final int st = s.stride(), ho = s.ho(), wo = s.wo(), wp = s.w() + 2 * s.pad();
    for (int oy = 0, p = 0; oy < ho; oy++) {
      for (int ox = 0; ox < wo; ox++, p++) {
        qoff[p] = oy * st * wp + ox * st;
      }
    }
  }

  /**
   * Columns [j0, j1) of the transposed im2col of batch item nb, group g, as the P = ho·wo rows of
   * colT (P × (j1 − j0)): colT[(oy*wo + ox)*(j1 − j0) + k − j0] = x[nb, g*cinG + ci,
   * oy*stride − pad + ky, ox*stride − pad + kx] for k = (ci*kh + ky)*kw + kx, or 0 in the
   * padding. Any stride.
   *
   * @param xp scratch of {@link #paddedPlanesFloats} floats, zero outside the interiors this method
   *     writes (the caller zeroes it once; interiors are overwritten per call). Modified.
   * @param koff scratch of at least K ints. Modified.
   */
  static void im2colT(float[] colT, float[] x, int nb, int g, ConvShape s, float[] xp, int[] koff,
      int j0, int j1) {
    final int st = s.stride(), ho = s.ho(), wo = s.wo();
    final int wp = s.w() + 2 * s.pad();
    final int ks = j1 - j0;
    padItem(xp, x, nb, g, s);
    patchOffsets(koff, s);
    for (int oy = 0; oy < ho; oy++) {
      for (int ox = 0; ox < wo; ox++) {
        int base = oy * st * wp + ox * st;
        int d = (oy * wo + ox) * ks - j0;
        for (int p = j0; p < j1; p++) {
          colT[d + p] = xp[base + koff[p]];
        }
      }
    }
  }

  /**
   * dx[nb, g*cinG + ci, iy, ix] += col[(ci*kh + ky)*kw + kx][oy*wo + ox] for every in-bounds
   * (iy, ix), visiting (ci, ky, kx) in lexicographic order; within one (ci, ky, kx) row every dx
   * element receives at most one value, so the rows are added as vector runs (stride 1: one run
   * per output row, or one run over all valid output rows when the row is fully inside the image
   * and wo = w).
   */
  final void col2imAdd(float[] dx, float[] col, int nb, int g, ConvShape s) {
    int cinG = s.cinPerGroup(), kh = s.kh(), kw = s.kw(), h = s.h(), w = s.w();
    int ho = s.ho(), wo = s.wo(), st = s.stride(), pad = s.pad();
    int plane = ho * wo;
    for (int ci = 0; ci < cinG; ci++) {
      int xc = (nb * s.cin() + g * cinG + ci) * h;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          int row = ((ci * kh + ky) * kw + kx) * plane;
          if (st == 1) {
            // iy = oy - pad + ky is inside [0, h) for oy in [oyLo, oyHi); ix likewise for ox
            int oyLo = Math.min(ho, Math.max(0, pad - ky));
            int oyHi = Math.max(oyLo, Math.min(ho, h + pad - ky));
            int lo = Math.min(wo, Math.max(0, pad - kx));
            int hi = Math.max(lo, Math.min(wo, w + pad - kx));
            if (lo == 0 && hi == wo && wo == w) {
              addRow(dx, (xc + oyLo - pad + ky) * w, col, row + oyLo * wo, (oyHi - oyLo) * wo);
              continue;
            }
            for (int oy = oyLo; oy < oyHi; oy++) {
              addRow(dx, (xc + oy - pad + ky) * w - pad + kx + lo, col, row + oy * wo + lo,
                  hi - lo);
            }
            continue;
          }
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * st - pad + ky;
            if (iy < 0 || iy >= h) {
              continue;
            }
            int xr = (xc + iy) * w;
            int d = row + oy * wo;
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * st - pad + kx;
              if (ix >= 0 && ix < w) {
                dx[xr + ix] += col[d + ox];
              }
            }
          }
        }
      }
    }
  }
}
