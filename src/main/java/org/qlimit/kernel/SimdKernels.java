package org.qlimit.kernel;

import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import org.qlimit.util.Parallel;
import org.qlimit.util.VectorWidth;

/**
 * Vector API implementation of {@link Kernels}, bit-identical to {@link ScalarKernels} for every
 * vector width (128, 256, 512 bits) and thread count.
 *
 * <ul>
 *   <li>GEMM: packed, register-blocked 6 × (2 vectors) micro-kernel ({@link SimdOps}); B is read in
 *       place (not packed) when it is not transposed and m ≤ {@link SimdOps#PACK_B_MIN_M}.
 *   <li>conv2d forward, stride 1 (not 1×1 unpadded), batch ≥ threads: an implicit GEMM on a
 *       zero-padded copy of each input item, no im2col ({@link SimdOps#convForwardPadded}):
 *       weights packed once per call into 6-row panels, outputs computed on the padded-width grid
 *       two vectors at a time and copied out. Other shapes: per batch item and group, im2col then
 *       GEMM (1×1 stride-1 unpadded convs use x directly). Depthwise convs use a direct kernel
 *       vectorised along the output row. Parallel over batch items (or inside the GEMM when the
 *       batch is smaller than the thread count). Depthwise backward passes are direct loops too
 *       (same order as the reference).
 *   <li>conv2d backward-data, stride-1 "same" shapes (ho = h, wo = w) with at least 6 input
 *       channels per group, batch·groups ≥ threads:
 *       direct, no col2im ({@link SimdOps#convDataTile}): a 6 × (2 vectors) tile of dx per kernel
 *       tap, v = Wᵀ·dy over the output channels in registers, added to the lanes the tap reaches.
 *       Other shapes: per batch item and group, dcol = Wᵀ·dy (GEMM) then col2im, which adds each
 *       dcol row to dx as vector runs.
 *   <li>conv2d backward-weight: direct, no im2col ({@link SimdOps#convWeightTile}): a 6 × (2
 *       vectors) register tile of dwᵀ (reduction indices k × output channels) runs over all
 *       positions of a batch item, broadcasting x from a zero-padded copy of the item and loading
 *       dy transposed to positions × channels. Threads split the row panels of K (outputs), each
 *       visiting the batch items in order; never the batch. 1×1 expansions (K &lt; cout) keep the
 *       GEMM dw_g += dy_g · colᵀ on the transposed im2col, threads splitting K.
 *   <li>Reductions: 16 logical lanes in 1, 2 or 4 vector accumulators, combined by
 *       {@link Lanes#sumInOrder}; never {@code reduceLanes(ADD)}.
 *   <li>Batched GEMM (attention): the same GEMM per batch item, one thread each, threads over
 *       batch items (inside the GEMM when there are fewer items than threads).
 *   <li>Activation quantization (QDrop): the mask is drawn by the scalar counter-based generator
 *       in blocks, then fake quantization and the keep/drop select run on float lanes; the
 *       backward pass is one scalar loop per thread (mix backward, STE and LSQ terms) that keeps
 *       only the non-zero terms, summed in index order on the caller's thread (the sum of
 *       {@link ScalarKernels}). The p = 2 loss gradient runs on double lanes.
 *   <li>rint, floor, exp, log, sigmoid, softmax, the bias additions, and the transformer's GELU,
 *       tanh, LayerNorm, masked softmax and softmax backward stay scalar loops, shared with
 *       {@link ScalarKernels} (StrictMath and double sums; parallel over rows only).
 * </ul>
 */
public final class SimdKernels implements Kernels {
  static {
    registerPreferredWidth();
  }

  private final NumericsConfig cfg;
  private final SimdOps ops;
  /**
   * The ops for {@link #lpSum}: the configured width, capped at the CPU's preferred width. The Lp
   * sum is defined by its 16 logical lanes, so every width gives the same bits (tested at 128, 256
   * and 512); wider-than-hardware vectors would only run it emulated, many times slower, in the
   * range searches that scan millions of elements per candidate.
   */
  private final SimdOps lpOps;

  /** @param cfg vectorBits must be 128, 256 or 512 (0 means scalar: use {@link ScalarKernels}) */
  public SimdKernels(NumericsConfig cfg) {
    this(cfg, true);
  }

  private SimdKernels(NumericsConfig cfg, boolean capLpWidth) {
    Check.arg(cfg != null, "SimdKernels: config is null");
    this.cfg = cfg;
    this.ops = switch (cfg.vectorBits()) {
      case 128 -> new SimdOps128();
      case 256 -> new SimdOps256();
      case 512 -> new SimdOps512();
      default -> throw new IllegalArgumentException(
          "SimdKernels: vectorBits must be 128, 256 or 512, got " + cfg.vectorBits()
              + " (use ScalarKernels for 0)");
    };
    int hw = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize();
    this.lpOps = !capLpWidth || cfg.vectorBits() <= hw ? ops
        : hw >= 256 ? new SimdOps256() : new SimdOps128();
  }

  /** Kernels whose Lp sum also runs at the configured width, emulated or not (twin tests). */
  static SimdKernels exactWidth(NumericsConfig cfg) {
    return new SimdKernels(cfg, false);
  }

  /** Registers {@code FloatVector.SPECIES_PREFERRED}'s width with {@link VectorWidth}. */
  public static void registerPreferredWidth() {
    VectorWidth.register(jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.vectorBitSize());
  }

  @Override
  public NumericsConfig config() {
    return cfg;
  }

  // ---------------------------------------------------------------- GEMM

  @Override
  public void gemmNN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmNN", c, a, b, m, k, n);
    ops.gemm(c, 0, a, 0, false, b, 0, false, m, k, n, accumulate, cfg.threads());
  }

  @Override
  public void gemmNT(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmNT", c, a, b, m, k, n);
    ops.gemm(c, 0, a, 0, false, b, 0, true, m, k, n, accumulate, cfg.threads());
  }

  @Override
  public void gemmTN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmTN", c, a, b, m, k, n);
    ops.gemm(c, 0, a, 0, true, b, 0, false, m, k, n, accumulate, cfg.threads());
  }

  // ---------------------------------------------------------------- convolution

  private static boolean pointwise(ConvShape s) {
    return s.kh() == 1 && s.kw() == 1 && s.stride() == 1 && s.pad() == 0;
  }

  @Override
  public void conv2dForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s) {
    Pre.convForward(y, x, w, bias, s);
    if (s.depthwise() && !pointwise(s)) {
      depthwiseForward(y, x, w, bias, s);
      return;
    }
    if (s.stride() == 1 && !pointwise(s) && s.n() >= cfg.threads()) {
      paddedForward(y, x, w, bias, s);
      return;
    }
    final int cinG = s.cinPerGroup(), coutG = s.coutPerGroup();
    final int kk = cinG * s.kh() * s.kw();
    final int plane = s.ho() * s.wo();
    final int outer = s.n() >= cfg.threads() ? cfg.threads() : 1;
    final int inner = outer == 1 ? cfg.threads() : 1;
    Parallel.forRange(outer, s.n(), (n0, n1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      for (int nb = n0; nb < n1; nb++) {
        for (int g = 0; g < s.groups(); g++) {
          float[] col;
          int colOff;
          if (pointwise(s)) {
            col = x;
            colOff = (nb * s.cin() + g * cinG) * plane;
          } else {
            sc.col = SimdOps.Scratch.grow(sc.col, (long) kk * plane);
            SimdOps.im2col(sc.col, x, nb, g, s);
            col = sc.col;
            colOff = 0;
          }
          int yOff = (nb * s.cout() + g * coutG) * plane;
          // y_g (coutG × P) = W_g (coutG × K) · col (K × P)
          ops.gemm(y, yOff, w, g * coutG * kk, false, col, colOff, false, coutG, kk, plane, false,
              inner);
          if (bias != null) {
            for (int cl = 0; cl < coutG; cl++) {
              ops.addScalar(y, yOff + cl * plane, plane, bias[g * coutG + cl]);
            }
          }
        }
      }
    });
  }

  /**
   * Stride-1 forward without im2col ({@link SimdOps#convForwardPadded}): the weights are packed
   * once per call, threads split the batch items, each on its own zero-padded input copy.
   */
  private void paddedForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s) {
    final int kk = s.cinPerGroup() * s.kh() * s.kw();
    SimdOps.Scratch caller = SimdOps.SCRATCH.get();
    caller.packW = SimdOps.Scratch.grow(caller.packW,
        (long) s.groups() * ((s.coutPerGroup() + SimdOps.MR - 1) / SimdOps.MR) * SimdOps.MR * kk);
    final float[] pw = caller.packW;
    SimdOps.packConvWeights(pw, w, s);
    Parallel.forRange(cfg.threads(), s.n(), (n0, n1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      long xpLen = ops.paddedInputFloats(s);
      sc.plane = SimdOps.Scratch.grow(sc.plane, xpLen);
      sc.ybuf = SimdOps.Scratch.grow(sc.ybuf, ops.paddedOutputFloats(s));
      if (sc.koff.length < kk) {
        sc.koff = new int[kk];
      }
      java.util.Arrays.fill(sc.plane, 0, (int) xpLen, 0f);
      for (int nb = n0; nb < n1; nb++) {
        for (int g = 0; g < s.groups(); g++) {
          ops.convForwardPadded(y, x, pw, bias, s, nb, g, sc.plane, sc.koff, sc.ybuf);
        }
      }
    });
  }

  /** Depthwise forward on a zero-padded copy of each input plane; (ky, kx) order per output. */
  private void depthwiseForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), kh = s.kh(), kw = s.kw(), st = s.stride();
    final int hp = h + 2 * pad, wp = wi + 2 * pad, ho = s.ho(), wo = s.wo();
    Parallel.forRange(cfg.threads(), s.n(), (n0, n1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      int lanes = ops.lanes();
      sc.plane = SimdOps.Scratch.grow(sc.plane, (long) hp * wp + lanes);
      sc.rows = SimdOps.Scratch.grow(sc.rows, (long) ho * ((wo + lanes - 1) / lanes * lanes));
      float[] xp = sc.plane;
      java.util.Arrays.fill(xp, 0, hp * wp + lanes, 0f);
      for (int nb = n0; nb < n1; nb++) {
        for (int c = 0; c < s.cin(); c++) {
          int xc = (nb * s.cin() + c) * h * wi;
          for (int iy = 0; iy < h; iy++) {
            System.arraycopy(x, xc + iy * wi, xp, (iy + pad) * wp + pad, wi);
          }
          int yc = (nb * s.cout() + c) * ho * wo;
          int wOff = c * kh * kw;
          if (st == 1) {
            ops.depthwisePlane(y, yc, xp, wp, w, wOff, kh, kw, ho, wo, sc.rows);
          } else {
            for (int oy = 0; oy < ho; oy++) {
              for (int ox = 0; ox < wo; ox++) {
                float acc = 0f;
                for (int ky = 0; ky < kh; ky++) {
                  int xr = (oy * st + ky) * wp + ox * st;
                  for (int kx = 0; kx < kw; kx++) {
                    acc = Math.fma(xp[xr + kx], w[wOff + ky * kw + kx], acc);
                  }
                }
                y[yc + oy * wo + ox] = acc;
              }
            }
          }
          if (bias != null) {
            ops.addScalar(y, yc, ho * wo, bias[c]);
          }
        }
      }
    });
  }

  @Override
  public void conv2dBackwardData(float[] dx, float[] dy, float[] w, ConvShape s) {
    Pre.convBackwardData(dx, dy, w, s);
    if (s.depthwise() && !pointwise(s)) {
      depthwiseBackwardData(dx, dy, w, s);
      return;
    }
    if (s.stride() == 1 && s.ho() == s.h() && s.wo() == s.w() && s.cinPerGroup() >= SimdOps.MR
        && s.n() * s.groups() >= cfg.threads()) {
      directBackwardData(dx, dy, w, s);
      return;
    }
    final int coutG = s.coutPerGroup();
    final int kk = s.cinPerGroup() * s.kh() * s.kw();
    final int plane = s.ho() * s.wo();
    final int outer = s.n() >= cfg.threads() ? cfg.threads() : 1;
    final int inner = outer == 1 ? cfg.threads() : 1;
    Parallel.forRange(outer, s.n(), (n0, n1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      sc.col = SimdOps.Scratch.grow(sc.col, (long) kk * plane);
      for (int nb = n0; nb < n1; nb++) {
        for (int g = 0; g < s.groups(); g++) {
          // dcol (K × P) = W_gᵀ · dy_g, W_g (coutG × K), dy_g (coutG × P)
          ops.gemm(sc.col, 0, w, g * coutG * kk, true, dy, (nb * s.cout() + g * coutG) * plane,
              false, kk, coutG, plane, false, inner);
          ops.col2imAdd(dx, sc.col, nb, g, s);
        }
      }
    });
  }

  /**
   * Backward-data of a stride-1 "same" convolution (ho = h, wo = w) without col2im
   * ({@link SimdOps#convDataTile}): per batch item and group, a 6 × (2 vectors) tile of dx (input
   * channels × consecutive positions of the flattened plane) takes, for each kernel tap (ky, kx)
   * in order, v = fma chain over the group's output channels (increasing, from 0) of
   * w[co, ci, ky, kx] · dy[co, iy + pad − ky, ix + pad − kx], and adds it to the lanes whose
   * (oy, ox) lies inside the output. Each dx element thus receives exactly the adds of the
   * col2im definition, in its (ky, kx) order. dx and dy are copied to padded scratch planes so
   * that every vector load stays inside its buffer; threads split (batch item, group) pairs.
   */
  private void directBackwardData(float[] dx, float[] dy, float[] w, ConvShape s) {
    final int cinG = s.cinPerGroup(), coutG = s.coutPerGroup(), kh = s.kh(), kw = s.kw();
    final int pad = s.pad(), h = s.h(), wi = s.w(), plane = h * wi, taps = kh * kw;
    final int kk = cinG * taps, nr = ops.nr, mr = SimdOps.MR;
    final int planeR = (plane + nr - 1) / nr * nr;
    final int cPanels = (cinG + mr - 1) / mr;
    final int slack = pad * wi + pad;
    final int planeY = planeR + 2 * slack;
    SimdOps.Scratch caller = SimdOps.SCRATCH.get();
    // pw[(((g*cPanels + cp)*taps + t)*coutG + co)*MR + r] = w[g*coutG + co, cp*MR + r, t]
    caller.packW = SimdOps.Scratch.grow(caller.packW, (long) s.groups() * cPanels * taps * coutG
        * mr);
    final float[] pw = caller.packW;
    for (int g = 0; g < s.groups(); g++) {
      for (int cp = 0; cp < cPanels; cp++) {
        for (int t = 0; t < taps; t++) {
          for (int co = 0; co < coutG; co++) {
            int d = (((g * cPanels + cp) * taps + t) * coutG + co) * mr;
            for (int r = 0; r < mr; r++) {
              int ci = cp * mr + r;
              pw[d + r] = ci < cinG ? w[(g * coutG + co) * kk + ci * taps + t] : 0f;
            }
          }
        }
      }
    }
    // valid[t*planeR + q]: position q = iy*w + ix receives tap t = ky*kw + kx
    if (caller.valid.length < taps * planeR) {
      caller.valid = new boolean[taps * planeR];
    }
    final boolean[] valid = caller.valid;
    for (int t = 0; t < taps; t++) {
      int ky = t / kw, kx = t % kw;
      for (int q = 0; q < planeR; q++) {
        int oy = q / wi + pad - ky, ox = q % wi + pad - kx;
        valid[t * planeR + q] = q < plane && oy >= 0 && oy < h && ox >= 0 && ox < wi;
      }
    }
    Parallel.forRange(cfg.threads(), s.n() * s.groups(), (u0, u1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      sc.col = SimdOps.Scratch.grow(sc.col, (long) coutG * planeY);
      sc.rows = SimdOps.Scratch.grow(sc.rows, (long) cPanels * mr * planeR);
      final float[] dyp = sc.col;
      final float[] dxb = sc.rows;
      for (int u = u0; u < u1; u++) {
        int nb = u / s.groups(), g = u % s.groups();
        int xb = (nb * s.cin() + g * cinG) * plane;
        int yb = (nb * s.cout() + g * coutG) * plane;
        for (int co = 0; co < coutG; co++) {
          System.arraycopy(dy, yb + co * plane, dyp, slack + co * planeY, plane);
        }
        for (int ci = 0; ci < cinG; ci++) {
          System.arraycopy(dx, xb + ci * plane, dxb, ci * planeR, plane);
        }
        for (int cp = 0; cp < cPanels; cp++) {
          for (int qt = 0; qt < planeR; qt += nr) {
            for (int t = 0; t < taps; t++) {
              int shift = (pad - t / kw) * wi + pad - t % kw;
              ops.convDataTile(coutG, pw, ((g * cPanels + cp) * taps + t) * coutG * mr, dyp,
                  slack + qt + shift, planeY, dxb, cp * mr * planeR + qt, planeR, valid,
                  t * planeR + qt);
            }
          }
        }
        for (int ci = 0; ci < cinG; ci++) {
          System.arraycopy(dxb, ci * planeR, dx, xb + ci * plane, plane);
        }
      }
    });
  }

  /**
   * Depthwise backward-data, direct: the col2im order of {@link Kernels#conv2dBackwardData} with one
   * output channel per group, so v = fma(w, dy, 0) and dx += v for (ky, kx, oy, ox) in order.
   */
  private void depthwiseBackwardData(float[] dx, float[] dy, float[] w, ConvShape s) {
    final int lanes = ops.lanes();
    final int blocks = s.cin() / lanes;
    final int single = s.cin() - blocks * lanes;
    Parallel.forRange(cfg.threads(), blocks + single, (i0, i1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      if (i0 < blocks) {
        sc.col = SimdOps.Scratch.grow(sc.col, (long) s.h() * s.w() * lanes);
        sc.rows = SimdOps.Scratch.grow(sc.rows, (long) s.ho() * s.wo() * lanes);
        sc.packW = SimdOps.Scratch.grow(sc.packW, (long) s.kh() * s.kw() * lanes);
      }
      for (int i = i0; i < i1; i++) {
        if (i < blocks) {
          depthwiseDataBlock(dx, dy, w, s, i * lanes, sc.col, sc.rows, sc.packW);
        } else {
          for (int nb = 0; nb < s.n(); nb++) {
            depthwiseDataPlane(dx, dy, w, s, nb * s.cin() + blocks * lanes + i - blocks);
          }
        }
      }
    });
  }

  /**
   * Channels c0 .. c0 + lanes − 1 of {@link #depthwiseBackwardData}, one per vector lane, on
   * channel-minor copies of dx and dy ({@link SimdOps#depthwiseDataRow}); the taps and rows in the
   * order of {@link #depthwiseDataPlane}, so every dx element gets its terms in the same order.
   */
  private void depthwiseDataBlock(float[] dx, float[] dy, float[] w, ConvShape s, int c0,
      float[] dxT, float[] dyT, float[] wT) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), kh = s.kh(), kw = s.kw(), st = s.stride();
    final int ho = s.ho(), wo = s.wo(), lanes = ops.lanes(), taps = kh * kw;
    for (int l = 0; l < lanes; l++) {
      for (int t = 0; t < taps; t++) {
        wT[t * lanes + l] = w[(c0 + l) * taps + t];
      }
    }
    for (int nb = 0; nb < s.n(); nb++) {
      for (int l = 0; l < lanes; l++) {
        toLanes(dxT, l, lanes, dx, (nb * s.cin() + c0 + l) * h * wi, h * wi);
        toLanes(dyT, l, lanes, dy, (nb * s.cout() + c0 + l) * ho * wo, ho * wo);
      }
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          // ix = ox·st − pad + kx is inside [0, wi) for ox in [lo, hi)
          int lo = Math.min(wo, Math.max(0, Math.floorDiv(pad - kx + st - 1, st)));
          int hi = Math.max(lo, Math.min(wo, Math.floorDiv(wi - 1 + pad - kx, st) + 1));
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * st - pad + ky;
            if (iy < 0 || iy >= h || hi == lo) {
              continue;
            }
            ops.depthwiseDataRow(dxT, (iy * wi + lo * st - pad + kx) * lanes, st * lanes, dyT,
                (oy * wo + lo) * lanes, wT, (ky * kw + kx) * lanes, hi - lo);
          }
        }
      }
      for (int l = 0; l < lanes; l++) {
        int xc = (nb * s.cin() + c0 + l) * h * wi;
        for (int q = 0; q < h * wi; q++) {
          dx[xc + q] = dxT[q * lanes + l];
        }
      }
    }
  }

  /**
   * One channel into its lane of a channel-minor copy: dst[dOff + q·lanes] = src[sOff + q] for
   * q &lt; n, dOff including the lane (the layout the depthwise lane kernels read).
   */
  private static void toLanes(float[] dst, int dOff, int lanes, float[] src, int sOff, int n) {
    for (int q = 0; q < n; q++) {
      dst[dOff + q * lanes] = src[sOff + q];
    }
  }

  /** Plane pl = nb·cin + c of {@link #depthwiseBackwardData}, one channel. */
  private void depthwiseDataPlane(float[] dx, float[] dy, float[] w, ConvShape s, int pl) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), kh = s.kh(), kw = s.kw(), st = s.stride();
    final int ho = s.ho(), wo = s.wo();
    int c = pl % s.cin();
    int xc = pl * h * wi;
    int yc = pl * ho * wo;
    for (int ky = 0; ky < kh; ky++) {
      for (int kx = 0; kx < kw; kx++) {
        float wv = w[(c * kh + ky) * kw + kx];
        for (int oy = 0; oy < ho; oy++) {
          int iy = oy * st - pad + ky;
          if (iy < 0 || iy >= h) {
            continue;
          }
          int xr = xc + iy * wi;
          int yr = yc + oy * wo;
          if (st == 1) {
            // ix = ox - pad + kx is inside [0, wi) for ox in [lo, hi)
            int lo = Math.min(wo, Math.max(0, pad - kx));
            int hi = Math.max(lo, Math.min(wo, wi + pad - kx));
            ops.addProductRow(dx, xr + lo - pad + kx, dy, yr + lo, wv, hi - lo);
            continue;
          }
          for (int ox = 0; ox < wo; ox++) {
            int ix = ox * st - pad + kx;
            if (ix >= 0 && ix < wi) {
              dx[xr + ix] += Math.fma(wv, dy[yr + ox], 0f);
            }
          }
        }
      }
    }
  }

  /**
   * Depthwise backward-weight, direct: per channel, the kh·kw chains run side by side over
   * (batch item, oy, ox) in order, on a zero-padded copy of each input plane. 3×3 kernels take
   * the channels {@code lanes()} at a time, one per vector lane ({@link SimdOps#depthwiseWeightTile}
   * on channel-minor copies of x and dy, the layout of oneDNN's blocked formats), the chains and
   * their order unchanged; the channels left over, and other kernel sizes, one at a time.
   */
  private void depthwiseBackwardWeight(float[] dw, float[] dy, float[] x, ConvShape s) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), kh = s.kh(), kw = s.kw(), st = s.stride();
    final int hp = h + 2 * pad, wp = wi + 2 * pad, ho = s.ho(), wo = s.wo();
    final int lanes = ops.lanes();
    final int blocks = kh == 3 && kw == 3 ? s.cin() / lanes : 0;
    final int single = s.cin() - blocks * lanes;
    Parallel.forRange(cfg.threads(), blocks + single, (i0, i1) -> {
      SimdOps.Scratch sc = SimdOps.SCRATCH.get();
      if (i0 < blocks) {
        sc.col = SimdOps.Scratch.grow(sc.col, (long) hp * wp * lanes);
        sc.rows = SimdOps.Scratch.grow(sc.rows, (long) ho * wo * lanes);
        // the padding cells stay 0: the copies below write only the interior
        java.util.Arrays.fill(sc.col, 0, hp * wp * lanes, 0f);
      }
      if (i1 > blocks) {
        sc.plane = SimdOps.Scratch.grow(sc.plane, (long) hp * wp);
        java.util.Arrays.fill(sc.plane, 0, hp * wp, 0f);
      }
      float[] acc = new float[9 * lanes];
      for (int i = i0; i < i1; i++) {
        if (i < blocks) {
          depthwiseWeightBlock(dw, dy, x, s, i * lanes, sc.col, sc.rows, acc);
        } else {
          depthwiseWeightChannel(dw, dy, x, s, blocks * lanes + i - blocks, sc.plane);
        }
      }
    });
  }

  /** Channels c0 .. c0 + lanes − 1 of {@link #depthwiseBackwardWeight} (3×3 kernels). */
  private void depthwiseWeightBlock(float[] dw, float[] dy, float[] x, ConvShape s, int c0,
      float[] xT, float[] dyT, float[] acc) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), ho = s.ho(), wo = s.wo();
    final int wp = wi + 2 * pad, lanes = ops.lanes();
    for (int l = 0; l < lanes; l++) {
      for (int t = 0; t < 9; t++) {
        acc[t * lanes + l] = dw[(c0 + l) * 9 + t];
      }
    }
    for (int nb = 0; nb < s.n(); nb++) {
      for (int l = 0; l < lanes; l++) {
        int xc = (nb * s.cin() + c0 + l) * h * wi;
        for (int iy = 0; iy < h; iy++) {
          toLanes(xT, ((iy + pad) * wp + pad) * lanes + l, lanes, x, xc + iy * wi, wi);
        }
        toLanes(dyT, l, lanes, dy, (nb * s.cout() + c0 + l) * ho * wo, ho * wo);
      }
      ops.depthwiseWeightTile(acc, xT, wp, s.stride(), dyT, ho, wo);
    }
    for (int l = 0; l < lanes; l++) {
      for (int t = 0; t < 9; t++) {
        dw[(c0 + l) * 9 + t] = acc[t * lanes + l];
      }
    }
  }

  /** Channel c of {@link #depthwiseBackwardWeight}, scalar; xp: a zeroed hp·wp plane. */
  private static void depthwiseWeightChannel(float[] dw, float[] dy, float[] x, ConvShape s,
      int c, float[] xp) {
    final int h = s.h(), wi = s.w(), pad = s.pad(), kh = s.kh(), kw = s.kw(), st = s.stride();
    final int wp = wi + 2 * pad, ho = s.ho(), wo = s.wo();
    float[] acc = new float[kh * kw];
    System.arraycopy(dw, c * kh * kw, acc, 0, kh * kw);
    for (int nb = 0; nb < s.n(); nb++) {
      int xc = (nb * s.cin() + c) * h * wi;
      for (int iy = 0; iy < h; iy++) {
        System.arraycopy(x, xc + iy * wi, xp, (iy + pad) * wp + pad, wi);
      }
      int yc = (nb * s.cout() + c) * ho * wo;
      for (int oy = 0; oy < ho; oy++) {
        for (int ox = 0; ox < wo; ox++) {
          float g = dy[yc + oy * wo + ox];
          int xr = oy * st * wp + ox * st;
          for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
              acc[ky * kw + kx] = Math.fma(g, xp[xr + ky * wp + kx], acc[ky * kw + kx]);
            }
          }
        }
      }
    }
    System.arraycopy(acc, 0, dw, c * kh * kw, kh * kw);
  }

  @Override
  public void conv2dBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, ConvShape s) {
    Pre.convBackwardWeight(dw, db, dy, x, s);
    if (s.depthwise() && !pointwise(s)) {
      depthwiseBackwardWeight(dw, dy, x, s);
      biasGrad(db, dy, s);
      return;
    }
    final int coutG = s.coutPerGroup();
    final int kk = s.cinPerGroup() * s.kh() * s.kw();
    if (s.kh() * s.kw() == 1 && kk < coutG) {
      // 1×1 expansions (K < cout): the GEMM on the transposed im2col keeps its full tiles
      gemmBackwardWeight(dw, dy, x, s);
      biasGrad(db, dy, s);
      return;
    }
    final int plane = s.ho() * s.wo();
    final int nr = ops.nr;
    final int mr = SimdOps.MR;
    // Direct, no im2col: dwᵀ (K × coutG) += x-patches (K × P) · dy_itemᵀ (P × coutG), one
    // register tile (SimdOps.convWeightTile) per 6 reduction rows k = (ci, ky, kx) and nr output
    // channels, reading the x values straight from a zero-padded copy of the item (broadcasts)
    // and dy transposed to positions × channels (vector loads). Per group, the threads first
    // build those copies of every batch item once (split by items), then split the row panels
    // of K; each thread visits the batch items in order and each tile runs over all positions in
    // order, so every dw element is one fma chain over (batch item, position) in increasing
    // order, starting from its current value.
    final int coutPad = (coutG + nr - 1) / nr * nr;
    final int kPanels = (kk + mr - 1) / mr;
    final int parts = Math.max(1, Math.min(cfg.threads(), kPanels));
    final int xpLen = (int) SimdOps.paddedPlanesFloats(s);
    final int dyTLen = plane * coutPad;
    SimdOps.Scratch caller = SimdOps.SCRATCH.get();
    caller.packW = SimdOps.Scratch.grow(caller.packW, (long) kPanels * mr * coutPad);
    caller.plane = SimdOps.Scratch.grow(caller.plane, (long) s.n() * xpLen);
    caller.dyT = SimdOps.Scratch.grow(caller.dyT, (long) s.n() * dyTLen);
    final float[] dwT = caller.packW;
    final float[] xps = caller.plane;
    final float[] dyTs = caller.dyT;
    final int[] patch = new int[kPanels * mr];
    SimdOps.patchOffsets(patch, s);
    // rows past K (last panel) repeat the last offset; their results are never copied out
    java.util.Arrays.fill(patch, kk, kPanels * mr, patch[Math.max(0, kk - 1)]);
    for (int g = 0; g < s.groups(); g++) {
      final int gg = g;
      final int wg = g * coutG * kk;
      Parallel.forRange(cfg.threads(), s.n(), (n0, n1) -> {
        for (int nb = n0; nb < n1; nb++) {
          // zero borders and zero channel columns past coutG: the copies write only the rest
          java.util.Arrays.fill(xps, nb * xpLen, (nb + 1) * xpLen, 0f);
          SimdOps.padItem(xps, nb * xpLen, x, nb, gg, s);
          int yb = (nb * s.cout() + gg * coutG) * plane;
          int d0 = nb * dyTLen;
          if (coutPad > coutG) {
            java.util.Arrays.fill(dyTs, d0, d0 + dyTLen, 0f);
          }
          for (int p = 0; p < plane; p++) {
            for (int co = 0; co < coutG; co++) {
              dyTs[d0 + p * coutPad + co] = dy[yb + co * plane + p];
            }
          }
        }
      });
      Parallel.forRange(parts, parts, (t0, t1) -> {
        SimdOps.Scratch ws = SimdOps.SCRATCH.get();
        if (ws.koff.length < kPanels * mr) {
          ws.koff = new int[kPanels * mr];
        }
        if (ws.qoff.length < plane) {
          ws.qoff = new int[plane];
        }
        final int[] koff = ws.koff;
        SimdOps.positionOffsets(ws.qoff, s);
        for (int t = t0; t < t1; t++) {
          int rp0 = (int) ((long) t * kPanels / parts);
          int rp1 = (int) ((long) (t + 1) * kPanels / parts);
          int k0 = rp0 * mr;
          int k1 = Math.min(kk, rp1 * mr);
          for (int k = k0; k < k1; k++) {
            for (int co = 0; co < coutG; co++) {
              dwT[k * coutPad + co] = dw[wg + co * kk + k];
            }
          }
          for (int nb = 0; nb < s.n(); nb++) {
            // the item's padded planes start at xps[nb·xpLen]: shift the patch offsets there
            for (int k = rp0 * mr; k < rp1 * mr; k++) {
              koff[k] = patch[k] + nb * xpLen;
            }
            for (int rp = rp0; rp < rp1; rp++) {
              for (int jc = 0; jc < coutPad; jc += nr) {
                ops.convWeightTile(plane, xps, ws.qoff, koff, rp * mr, dyTs,
                    nb * dyTLen + jc, coutPad, dwT, rp * mr * coutPad + jc, coutPad);
              }
            }
          }
          for (int k = k0; k < k1; k++) {
            for (int co = 0; co < coutG; co++) {
              dw[wg + co * kk + k] = dwT[k * coutPad + co];
            }
          }
        }
      });
    }
    biasGrad(db, dy, s);
  }

  /**
   * Backward-weight as a GEMM per batch item: threads split dw's columns (K) at vector-panel
   * boundaries; each, per group and batch item in order, builds its columns of the transposed
   * im2col colᵀ (P × K-slice) and accumulates dw_g += dy_g · colᵀ with a one-thread GEMM (K along
   * the vector lanes); never the batch.
   */
  private void gemmBackwardWeight(float[] dw, float[] dy, float[] x, ConvShape s) {
    final int coutG = s.coutPerGroup();
    final int kk = s.cinPerGroup() * s.kh() * s.kw();
    final int plane = s.ho() * s.wo();
    // Threads split dw's columns (K) at vector-panel boundaries; each thread, for each batch item
    // in order, builds its columns of the transposed im2col colᵀ (P × kS, small enough to stay in
    // cache) and runs dwS (coutG × kS) += dy_g,item (coutG × P, read in place) · colᵀ on one
    // thread, on a copy dwS of its columns of dw. Each dw element is one fma chain over (batch
    // item, position) in increasing order, starting from its current value.
    final int panelsK = (kk + ops.nr - 1) / ops.nr;
    final int parts = Math.max(1, Math.min(cfg.threads(), panelsK));
    Parallel.forRange(parts, parts, (t0, t1) -> {
      SimdOps.Scratch ws = SimdOps.SCRATCH.get();
      long xpLen = SimdOps.paddedPlanesFloats(s);
      ws.plane = SimdOps.Scratch.grow(ws.plane, xpLen);
      if (ws.koff.length < kk) {
        ws.koff = new int[kk];
      }
      java.util.Arrays.fill(ws.plane, 0, (int) xpLen, 0f);
      for (int t = t0; t < t1; t++) {
        int j0 = Math.min(kk, (int) ((long) t * panelsK / parts) * ops.nr);
        int j1 = Math.min(kk, (int) ((long) (t + 1) * panelsK / parts) * ops.nr);
        int ks = j1 - j0;
        ws.col = SimdOps.Scratch.grow(ws.col, (long) plane * ks);
        ws.dyT = SimdOps.Scratch.grow(ws.dyT, (long) coutG * ks);
        float[] dwS = ws.dyT;
        for (int g = 0; g < s.groups(); g++) {
          int wg = g * coutG * kk;
          for (int co = 0; co < coutG; co++) {
            System.arraycopy(dw, wg + co * kk + j0, dwS, co * ks, ks);
          }
          for (int nb = 0; nb < s.n(); nb++) {
            SimdOps.im2colT(ws.col, x, nb, g, s, ws.plane, ws.koff, j0, j1);
            ops.gemm(dwS, 0, dy, (nb * s.cout() + g * coutG) * plane, false, ws.col, 0, false,
                coutG, plane, ks, true, 1);
          }
          for (int co = 0; co < coutG; co++) {
            System.arraycopy(dwS, co * ks, dw, wg + co * kk + j0, ks);
          }
        }
      }
    });
  }

  private void biasGrad(float[] db, float[] dy, ConvShape s) {
    if (db != null) {
      Parallel.forRange(cfg.threads(), s.cout(), (c0, c1) -> {
        for (int co = c0; co < c1; co++) {
          db[co] = ScalarKernels.biasGrad(db[co], dy, co, s);
        }
      });
    }
  }

  // ---------------------------------------------------------------- linear

  @Override
  public void linearForward(float[] y, float[] x, float[] w, float[] bias, int n, int in, int out) {
    String op = "linearForward";
    Pre.sizes(op, n, in, out);
    Pre.linear(op, y, x, "x", w, "w", (long) n * in, (long) out * in, (long) n * out, "y");
    if (bias != null) {
      Pre.linear(op, y, bias, "bias", bias, "bias", out, out, (long) n * out, "y");
    }
    ops.gemm(y, 0, x, 0, false, w, 0, true, n, in, out, false, cfg.threads());
    ScalarKernels.addBiasRows(y, bias, n, out);
  }

  @Override
  public void linearBackwardData(float[] dx, float[] dy, float[] w, int n, int in, int out) {
    String op = "linearBackwardData";
    Pre.sizes(op, n, in, out);
    Pre.linear(op, dx, dy, "dy", w, "w", (long) n * out, (long) out * in, (long) n * in, "dx");
    ops.gemm(dx, 0, dy, 0, false, w, 0, false, n, out, in, true, cfg.threads());
  }

  @Override
  public void linearBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, int n, int in,
      int out) {
    String op = "linearBackwardWeight";
    Pre.sizes(op, n, in, out);
    Pre.linear(op, dw, dy, "dy", x, "x", (long) n * out, (long) n * in, (long) out * in, "dw");
    if (db != null) {
      Pre.linear(op, db, dy, "dy", x, "x", (long) n * out, (long) n * in, out, "db");
      Check.noAlias(op, db, dw, "dw");
    }
    ops.gemm(dw, 0, dy, 0, true, x, 0, false, out, n, in, true, cfg.threads());
    if (db != null) {
      ScalarKernels.linearBiasGrad(db, dy, n, out);
    }
  }

  // ---------------------------------------------------------------- pooling

  @Override
  public void globalAvgPool(float[] y, float[] x, int nc, int hw) {
    Pre.sizes("globalAvgPool", nc, hw);
    Pre.linear("globalAvgPool", y, x, "x", x, "x", (long) nc * hw, 0, nc, "y");
    for (int i = 0; i < nc; i++) {
      y[i] = ops.sum(x, i * hw, hw) / hw;
    }
  }

  @Override
  public void globalAvgPoolBackward(float[] dx, float[] dy, int nc, int hw) {
    Pre.sizes("globalAvgPoolBackward", nc, hw);
    Pre.linear("globalAvgPoolBackward", dx, dy, "dy", dy, "dy", nc, 0, (long) nc * hw, "dx");
    for (int i = 0; i < nc; i++) {
      ops.addScalar(dx, i * hw, hw, dy[i] / hw);
    }
  }

  // ---------------------------------------------------------------- reductions

  @Override
  public float sum(float[] x, int off, int len) {
    Pre.range("sum", x, off, len);
    return ops.sum(x, off, len);
  }

  @Override
  public float sumSquaredDiff(float[] a, float[] b, int len) {
    Pre.elementwise("sumSquaredDiff", len, a, b);
    return ops.sumSquaredDiff(a, b, len);
  }

  @Override
  public float lpLossMean(float[] a, float[] b, int len, double p, double m) {
    Pre.elementwise("lpLossMean", len, a, b);
    Check.arg(p >= 1, "lpLossMean: p must be >= 1, got %s", p);
    return RoundedPow.lossMean(a, b, len, p, m, cfg.threads(), RoundedPowVector::approxSum);
  }

  @Override
  public void lpLossGrad(float[] da, float[] a, float[] b, int len, double p, double scale) {
    Pre.elementwise("lpLossGrad", len, da, a, b);
    Check.arg(p >= 1, "lpLossGrad: p must be >= 1, got %s", p);
    Parallel.forRange(cfg.threads(), len, (from, to) -> {
      if (p > 1) {
        RoundedPowVector.lossGrad(da, a, b, from, to, p, scale);
      } else {
        RoundedPow.lossGrad(da, a, b, from, to, p, scale);
      }
    });
  }

  @Override
  public float roundingRegularizer(float[] h, int n, double lambda, double beta) {
    return RoundedPow.regularizer(h, n, lambda, beta, cfg.threads(),
        RoundedPowVector::regularizerSums);
  }

  @Override
  public void roundingRegularizerGrad(float[] dAlpha, float[] h, double[] dh, int n,
      double lambda, double beta, double gradOut) {
    Pre.elementwise("roundingRegularizerGrad", n, dAlpha, h);
    Check.arg(dh.length >= n, "roundingRegularizerGrad: dh needs %d elements", n);
    Parallel.forRange(n >= RoundedPow.CHUNK ? cfg.threads() : 1, n, (from, to) -> {
      if (beta > 1) {
        RoundedPowVector.regularizerGrad(dAlpha, h, dh, from, to, lambda, beta, gradOut);
      } else {
        RoundedPow.regularizerGrad(dAlpha, h, dh, from, to, lambda, beta, gradOut);
      }
    });
  }

  @Override
  public double lpSum(float[] x, int off, int len, float s, float z, int qmin, int qmax) {
    Pre.range("lpSum", x, off, len);
    return lpOps.lpSum(x, off, len, s, z, qmin, qmax, Double.POSITIVE_INFINITY);
  }

  @Override
  public double lpSumUpTo(float[] x, int off, int len, float s, float z, int qmin, int qmax,
      double limit) {
    Pre.range("lpSumUpTo", x, off, len);
    return lpOps.lpSum(x, off, len, s, z, qmin, qmax, limit);
  }

  @Override
  public float dot(float[] a, float[] b, int len) {
    Pre.elementwise("dot", len, a, b);
    return ops.dot(a, b, len);
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  public void add(float[] y, float[] a, float[] b, int len) {
    Pre.elementwise("add", len, y, a, b);
    ops.add(y, a, b, len);
  }

  @Override
  public void mul(float[] y, float[] a, float[] b, int len) {
    Pre.elementwise("mul", len, y, a, b);
    ops.mul(y, a, b, len);
  }

  @Override
  public void axpy(float[] y, float alpha, float[] x, int len) {
    Pre.elementwise("axpy", len, y, x);
    ops.axpy(y, alpha, x, len);
  }

  @Override
  public void relu(float[] y, float[] x, int len) {
    Pre.elementwise("relu", len, y, x);
    ops.clamp(y, x, 0f, Float.POSITIVE_INFINITY, len);
  }

  @Override
  public void reluBackward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("reluBackward", len, dx, dy, x);
    ops.maskedAdd(dx, dy, x, 0f, Float.NaN, len);
  }

  @Override
  public void relu6(float[] y, float[] x, int len) {
    Pre.elementwise("relu6", len, y, x);
    ops.clamp(y, x, 0f, 6f, len);
  }

  @Override
  public void relu6Backward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("relu6Backward", len, dx, dy, x);
    ops.maskedAdd(dx, dy, x, 0f, 6f, len);
  }

  @Override
  public void clamp(float[] y, float[] x, float lo, float hi, int len) {
    Pre.elementwise("clamp", len, y, x);
    Check.arg(lo <= hi, "clamp: lo=%s > hi=%s", lo, hi);
    ops.clamp(y, x, lo, hi, len);
  }

  @Override
  public void rint(float[] y, float[] x, int len) {
    Pre.elementwise("rint", len, y, x);
    ScalarKernels.rintLoop(y, x, len);
  }

  @Override
  public void floor(float[] y, float[] x, int len) {
    Pre.elementwise("floor", len, y, x);
    ScalarKernels.floorLoop(y, x, len);
  }

  @Override
  public void sigmoid(float[] y, float[] x, int len) {
    Pre.elementwise("sigmoid", len, y, x);
    ScalarKernels.sigmoidLoop(y, x, len);
  }

  @Override
  public void exp(float[] y, float[] x, int len) {
    Pre.elementwise("exp", len, y, x);
    ScalarKernels.expLoop(y, x, len);
  }

  @Override
  public void log(float[] y, float[] x, int len) {
    Pre.elementwise("log", len, y, x);
    ScalarKernels.logLoop(y, x, len);
  }

  @Override
  public void softmax(float[] probs, float[] logits, int n, int c) {
    Pre.sizes("softmax", n, c);
    Pre.linear("softmax", probs, logits, "logits", logits, "logits", (long) n * c, 0,
        (long) n * c, "probs");
    ScalarKernels.softmaxLoop(probs, logits, n, c);
  }

  // ---------------------------------------------------------------- transformer encoder

  @Override
  public void gemmBatched(float[] c, float[] a, boolean transA, float[] b, boolean transB,
      int batch, int m, int k, int n, boolean accumulate) {
    Pre.gemmBatched(c, a, b, batch, m, k, n);
    if (batch >= cfg.threads()) {
      Parallel.forRange(cfg.threads(), batch, (t0, t1) -> {
        for (int t = t0; t < t1; t++) {
          ops.gemm(c, t * m * n, a, t * m * k, transA, b, t * k * n, transB, m, k, n, accumulate,
              1);
        }
      });
    } else {
      for (int t = 0; t < batch; t++) {
        ops.gemm(c, t * m * n, a, t * m * k, transA, b, t * k * n, transB, m, k, n, accumulate,
            cfg.threads());
      }
    }
  }

  @Override
  public void gelu(float[] y, float[] x, int len) {
    Pre.elementwise("gelu", len, y, x);
    ScalarKernels.geluLoop(y, x, len);
  }

  @Override
  public void geluBackward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("geluBackward", len, dx, dy, x);
    ScalarKernels.geluBackwardLoop(dx, dy, x, len);
  }

  @Override
  public void tanh(float[] y, float[] x, int len) {
    Pre.elementwise("tanh", len, y, x);
    ScalarKernels.tanhLoop(y, x, len);
  }

  @Override
  public void layerNorm(float[] y, float[] xhat, float[] rstd, float[] x, float[] gamma,
      float[] beta, int rows, int h, float eps) {
    Pre.layerNorm(y, xhat, rstd, x, gamma, beta, rows, h);
    ScalarKernels.layerNormLoop(y, xhat, rstd, x, gamma, beta, rows, h, eps, cfg.threads());
  }

  @Override
  public void layerNormBackward(float[] dx, float[] dgamma, float[] dbeta, float[] dy,
      float[] xhat, float[] rstd, float[] gamma, int rows, int h) {
    Pre.layerNormBackward(dx, dgamma, dbeta, dy, xhat, rstd, gamma, rows, h);
    ScalarKernels.layerNormBackwardLoop(dx, dgamma, dbeta, dy, xhat, rstd, gamma, rows, h,
        cfg.threads());
  }

  @Override
  public void maskedSoftmax(float[] probs, float[] logits, int[] keyMask, int rows, int c,
      int rowsPerMask) {
    Pre.maskedSoftmax(probs, logits, keyMask, rows, c, rowsPerMask);
    ScalarKernels.maskedSoftmaxLoop(probs, logits, keyMask, rows, c, rowsPerMask, cfg.threads());
  }

  @Override
  public void softmaxBackward(float[] dx, float[] dy, float[] probs, int rows, int c) {
    Pre.elementwise("softmaxBackward", rows * c, dx, dy, probs);
    ScalarKernels.softmaxBackwardLoop(dx, dy, probs, rows, c, cfg.threads());
  }

  // ---------------------------------------------------------------- activation quantization

  /** Elements per block of the mask: drawn into a small buffer, then applied with vectors. */
  private static final int MASK_BLOCK = 2048;

  @Override
  public void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int n, float s, float z,
      int qmin, int qmax, long maskPrefix, float prob) {
    Pre.fakeQuantDrop(y, keep, x, n, qmin, qmax, prob);
    int threads = n >= ScalarKernels.ACT_PARALLEL_MIN ? cfg.threads() : 1;
    Parallel.forRange(threads, n, (from, to) -> {
      for (int b = from; b < to; b += MASK_BLOCK) {
        int e = Math.min(to, b + MASK_BLOCK);
        if (keep != null) {
          ScalarKernels.dropMask(keep, b, b, e, maskPrefix, prob);
        }
        ops.fakeQuantDrop(y, keep, x, b, e, s, z, qmin, qmax);
      }
    });
  }

  @Override
  public float fakeQuantDropBackward(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int n, float s, float z, int qmin, int qmax, float gradScale) {
    Pre.fakeQuantDropBackward(dx, terms, dy, keep, x, n, qmin, qmax);
    if (n == 0) {
      return terms == null ? 0f : (float) (gradScale * 0.0);
    }
    // one contiguous part per thread; the step gradient is ScalarKernels' index-order double
    // sum of all terms: the first part's thread adds its terms as it computes them, the caller
    // continues with the other parts' terms after the join
    int threads = n >= ScalarKernels.ACT_PARALLEL_MIN ? cfg.threads() : 1;
    int chunk = (n + threads - 1) / threads;
    int parts = (n + chunk - 1) / chunk;
    double[] first = new double[1];
    Parallel.forRange(parts, parts, (p0, p1) -> {
      for (int p = p0; p < p1; p++) {
        int from = p * chunk;
        double a = ops.fakeQuantDropBackward(dx, terms, dy, keep, x, from,
            Math.min(n, from + chunk), s, z, qmin, qmax, p == 0);
        if (p == 0) {
          first[0] = a;
        }
      }
    });
    if (terms == null) {
      return 0f;
    }
    double acc = first[0];
    for (int k = chunk; k < n; k++) {
      acc += terms[k];
    }
    return (float) (gradScale * acc);
  }

  @Override
  public void qdropMix(float[] out, float[] xq, float[] xfp, int n, long maskPrefix, float prob) {
    Pre.qdropMix(out, xq, xfp, n, prob);
    int threads = n >= ScalarKernels.ACT_PARALLEL_MIN ? cfg.threads() : 1;
    Parallel.forRange(threads, n, (from, to) -> {
      boolean[] keep = new boolean[Math.min(MASK_BLOCK, to - from)];
      for (int b = from; b < to; b += MASK_BLOCK) {
        int e = Math.min(to, b + MASK_BLOCK);
        ScalarKernels.dropMask(keep, 0, b, e, maskPrefix, prob);
        ops.select(out, xq, xfp, keep, b, e - b);
      }
    });
  }

  @Override
  public void squaredDiffGrad(float[] da, float[] a, float[] b, int len, double scale) {
    Pre.elementwise("squaredDiffGrad", len, da, a, b);
    Parallel.forRange(len >= ScalarKernels.ACT_PARALLEL_MIN ? cfg.threads() : 1, len,
        (from, to) -> ops.squaredDiffGrad(da, a, b, from, to, scale));
  }
}
