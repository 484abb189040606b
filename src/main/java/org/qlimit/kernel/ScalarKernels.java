package org.qlimit.kernel;

import org.qlimit.util.Check;
import org.qlimit.util.CounterRng;
import org.qlimit.util.NumericsConfig;
import org.qlimit.util.Parallel;

/**
 * The reference implementation of {@link Kernels}: plain loops whose order of floating-point
 * operations <em>is</em> the definition that {@link SimdKernels} must reproduce bit for bit.
 *
 * <p>Threads split only independent outputs (GEMM rows, batch items, output channels), so the
 * thread count never changes a result. See {@link Kernels} for each kernel's accumulation order.
 */
public final class ScalarKernels implements Kernels {
  private final NumericsConfig cfg;

  /** @param threads worker threads (1..256) */
  public ScalarKernels(int threads) {
    this.cfg = new NumericsConfig(0, threads);
  }

  @Override
  public NumericsConfig config() {
    return cfg;
  }

  // ---------------------------------------------------------------- GEMM

  @Override
  public void gemmNN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmNN", c, a, b, m, k, n);
    gemm(c, a, false, b, false, m, k, n, accumulate, cfg.threads());
  }

  @Override
  public void gemmNT(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmNT", c, a, b, m, k, n);
    gemm(c, a, false, b, true, m, k, n, accumulate, cfg.threads());
  }

  @Override
  public void gemmTN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate) {
    Pre.gemm("gemmTN", c, a, b, m, k, n);
    gemm(c, a, true, b, false, m, k, n, accumulate, cfg.threads());
  }

  /**
   * c[i][j] = fma-chain over p = 0..k-1 of A(i,p)·B(p,j), starting from 0 or from c[i][j].
   * A(i,p) = a[i*k+p] (or a[p*m+i] when transA); B(p,j) = b[p*n+j] (or b[j*k+p] when transB).
   * The loops run i, p, j so that memory is read in order; every c element still sees its
   * products in increasing p.
   */
  static void gemm(float[] c, float[] a, boolean transA, float[] b, boolean transB, int m, int k,
      int n, boolean accumulate, int threads) {
    Parallel.forRange(threads, m, (i0, i1) -> {
      for (int i = i0; i < i1; i++) {
        int ci = i * n;
        if (!accumulate) {
          for (int j = 0; j < n; j++) {
            c[ci + j] = 0f;
          }
        }
        if (transB) {
          for (int j = 0; j < n; j++) {
            float acc = c[ci + j];
            for (int p = 0; p < k; p++) {
              float av = transA ? a[p * m + i] : a[i * k + p];
              acc = Math.fma(av, b[j * k + p], acc);
            }
            c[ci + j] = acc;
          }
        } else {
          for (int p = 0; p < k; p++) {
            float av = transA ? a[p * m + i] : a[i * k + p];
            int bp = p * n;
            for (int j = 0; j < n; j++) {
              c[ci + j] = Math.fma(av, b[bp + j], c[ci + j]);
            }
          }
        }
      }
    });
  }

  // ---------------------------------------------------------------- convolution

  @Override
  public void conv2dForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s) {
    Pre.convForward(y, x, w, bias, s);
    final int ho = s.ho(), wo = s.wo(), cinG = s.cinPerGroup(), coutG = s.coutPerGroup();
    final int kh = s.kh(), kw = s.kw(), h = s.h(), wi = s.w();
    Parallel.forRange(cfg.threads(), s.n(), (n0, n1) -> {
      for (int nb = n0; nb < n1; nb++) {
        for (int co = 0; co < s.cout(); co++) {
          int g = co / coutG;
          for (int oy = 0; oy < ho; oy++) {
            for (int ox = 0; ox < wo; ox++) {
              float acc = 0f;
              for (int ci = 0; ci < cinG; ci++) {
                int xc = (nb * s.cin() + g * cinG + ci) * h;
                for (int ky = 0; ky < kh; ky++) {
                  int iy = oy * s.stride() - s.pad() + ky;
                  for (int kx = 0; kx < kw; kx++) {
                    int ix = ox * s.stride() - s.pad() + kx;
                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < wi;
                    float xv = inside ? x[(xc + iy) * wi + ix] : 0f;
                    acc = Math.fma(xv, w[((co * cinG + ci) * kh + ky) * kw + kx], acc);
                  }
                }
              }
              y[((nb * s.cout() + co) * ho + oy) * wo + ox] = bias == null ? acc : acc + bias[co];
            }
          }
        }
      }
    });
  }

  @Override
  public void conv2dBackwardData(float[] dx, float[] dy, float[] w, ConvShape s) {
    Pre.convBackwardData(dx, dy, w, s);
    final int ho = s.ho(), wo = s.wo(), cinG = s.cinPerGroup(), coutG = s.coutPerGroup();
    final int kh = s.kh(), kw = s.kw(), h = s.h(), wi = s.w();
    Parallel.forRange(cfg.threads(), s.n(), (n0, n1) -> {
      for (int nb = n0; nb < n1; nb++) {
        for (int g = 0; g < s.groups(); g++) {
          for (int ci = 0; ci < cinG; ci++) {
            int xc = (nb * s.cin() + g * cinG + ci) * h;
            for (int ky = 0; ky < kh; ky++) {
              for (int kx = 0; kx < kw; kx++) {
                for (int oy = 0; oy < ho; oy++) {
                  int iy = oy * s.stride() - s.pad() + ky;
                  for (int ox = 0; ox < wo; ox++) {
                    int ix = ox * s.stride() - s.pad() + kx;
                    float v = 0f;
                    for (int cl = 0; cl < coutG; cl++) {
                      int co = g * coutG + cl;
                      v = Math.fma(w[((co * cinG + ci) * kh + ky) * kw + kx],
                          dy[((nb * s.cout() + co) * ho + oy) * wo + ox], v);
                    }
                    if (iy >= 0 && iy < h && ix >= 0 && ix < wi) {
                      dx[(xc + iy) * wi + ix] += v;
                    }
                  }
                }
              }
            }
          }
        }
      }
    });
  }

  @Override
  public void conv2dBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, ConvShape s) {
    Pre.convBackwardWeight(dw, db, dy, x, s);
    final int ho = s.ho(), wo = s.wo(), cinG = s.cinPerGroup(), coutG = s.coutPerGroup();
    final int kh = s.kh(), kw = s.kw(), h = s.h(), wi = s.w();
    Parallel.forRange(cfg.threads(), s.cout(), (c0, c1) -> {
      for (int co = c0; co < c1; co++) {
        int g = co / coutG;
        for (int ci = 0; ci < cinG; ci++) {
          for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
              int wIdx = ((co * cinG + ci) * kh + ky) * kw + kx;
              float acc = dw[wIdx];
              for (int nb = 0; nb < s.n(); nb++) {
                int xc = (nb * s.cin() + g * cinG + ci) * h;
                for (int oy = 0; oy < ho; oy++) {
                  int iy = oy * s.stride() - s.pad() + ky;
                  for (int ox = 0; ox < wo; ox++) {
                    int ix = ox * s.stride() - s.pad() + kx;
                    boolean inside = iy >= 0 && iy < h && ix >= 0 && ix < wi;
                    float xv = inside ? x[(xc + iy) * wi + ix] : 0f;
                    acc = Math.fma(dy[((nb * s.cout() + co) * ho + oy) * wo + ox], xv, acc);
                  }
                }
              }
              dw[wIdx] = acc;
            }
          }
        }
        if (db != null) {
          db[co] = biasGrad(db[co], dy, co, s);
        }
      }
    });
  }

  /** acc + Σ dy[nb, co, :, :] over nb, then positions, in increasing order (plain adds). */
  static float biasGrad(float acc, float[] dy, int co, ConvShape s) {
    int plane = s.ho() * s.wo();
    for (int nb = 0; nb < s.n(); nb++) {
      int base = (nb * s.cout() + co) * plane;
      for (int p = 0; p < plane; p++) {
        acc += dy[base + p];
      }
    }
    return acc;
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
    gemm(y, x, false, w, true, n, in, out, false, cfg.threads());
    addBiasRows(y, bias, n, out);
  }

  static void addBiasRows(float[] y, float[] bias, int n, int out) {
    if (bias == null) {
      return;
    }
    for (int i = 0; i < n; i++) {
      for (int o = 0; o < out; o++) {
        y[i * out + o] += bias[o];
      }
    }
  }

  @Override
  public void linearBackwardData(float[] dx, float[] dy, float[] w, int n, int in, int out) {
    String op = "linearBackwardData";
    Pre.sizes(op, n, in, out);
    Pre.linear(op, dx, dy, "dy", w, "w", (long) n * out, (long) out * in, (long) n * in, "dx");
    gemm(dx, dy, false, w, false, n, out, in, true, cfg.threads());
  }

  @Override
  public void linearBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, int n, int in,
      int out) {
    String op = "linearBackwardWeight";
    Pre.sizes(op, n, in, out);
    Pre.linear(op, dw, dy, "dy", x, "x", (long) n * out, (long) n * in, (long) out * in, "dw");
    gemm(dw, dy, true, x, false, out, n, in, true, cfg.threads());
    if (db != null) {
      Pre.linear(op, db, dy, "dy", x, "x", (long) n * out, (long) n * in, out, "db");
      Check.noAlias(op, db, dw, "dw");
      linearBiasGrad(db, dy, n, out);
    }
  }

  /** db[o] += Σ_i dy[i][o], i increasing, plain adds. */
  static void linearBiasGrad(float[] db, float[] dy, int n, int out) {
    for (int o = 0; o < out; o++) {
      float acc = db[o];
      for (int i = 0; i < n; i++) {
        acc += dy[i * out + o];
      }
      db[o] = acc;
    }
  }

  // ---------------------------------------------------------------- pooling

  @Override
  public void globalAvgPool(float[] y, float[] x, int nc, int hw) {
    Pre.sizes("globalAvgPool", nc, hw);
    Pre.linear("globalAvgPool", y, x, "x", x, "x", (long) nc * hw, 0, nc, "y");
    for (int i = 0; i < nc; i++) {
      y[i] = sumRange(x, i * hw, hw) / hw;
    }
  }

  @Override
  public void globalAvgPoolBackward(float[] dx, float[] dy, int nc, int hw) {
    Pre.sizes("globalAvgPoolBackward", nc, hw);
    Pre.linear("globalAvgPoolBackward", dx, dy, "dy", dy, "dy", nc, 0, (long) nc * hw, "dx");
    avgPoolBackward(dx, dy, nc, hw);
  }

  static void avgPoolBackward(float[] dx, float[] dy, int nc, int hw) {
    for (int i = 0; i < nc; i++) {
      float g = dy[i] / hw;
      for (int p = 0; p < hw; p++) {
        dx[i * hw + p] += g;
      }
    }
  }

  // ---------------------------------------------------------------- reductions (16 logical lanes)

  @Override
  public float sum(float[] x, int off, int len) {
    Pre.range("sum", x, off, len);
    return sumRange(x, off, len);
  }

  static float sumRange(float[] x, int off, int len) {
    float[] lanes = new float[Lanes.N];
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i++) {
      lanes[i % Lanes.N] += x[off + i];
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      s += x[off + i];
    }
    return s;
  }

  @Override
  public float lpLossMean(float[] a, float[] b, int len, double p, double m) {
    Pre.elementwise("lpLossMean", len, a, b);
    Check.arg(p >= 1, "lpLossMean: p must be >= 1, got %s", p);
    return RoundedPow.lossMean(a, b, len, p, m, cfg.threads());
  }

  @Override
  public void lpLossGrad(float[] da, float[] a, float[] b, int len, double p, double scale) {
    Pre.elementwise("lpLossGrad", len, da, a, b);
    Check.arg(p >= 1, "lpLossGrad: p must be >= 1, got %s", p);
    Parallel.forRange(cfg.threads(), len, (from, to) ->
        RoundedPow.lossGrad(da, a, b, from, to, p, scale));
  }

  @Override
  public float roundingRegularizer(float[] h, int n, double lambda, double beta) {
    return RoundedPow.regularizer(h, n, lambda, beta, cfg.threads());
  }

  @Override
  public void roundingRegularizerGrad(float[] dAlpha, float[] h, double[] dh, int n,
      double lambda, double beta, double gradOut) {
    Pre.elementwise("roundingRegularizerGrad", n, dAlpha, h);
    Check.arg(dh.length >= n, "roundingRegularizerGrad: dh needs %d elements", n);
    Parallel.forRange(n >= RoundedPow.CHUNK ? cfg.threads() : 1, n, (from, to) ->
        RoundedPow.regularizerGrad(dAlpha, h, dh, from, to, lambda, beta, gradOut));
  }

  @Override
  public float sumSquaredDiff(float[] a, float[] b, int len) {
    Pre.elementwise("sumSquaredDiff", len, a, b);
    float[] lanes = new float[Lanes.N];
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i++) {
      float d = a[i] - b[i];
      lanes[i % Lanes.N] = Math.fma(d, d, lanes[i % Lanes.N]);
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      float d = a[i] - b[i];
      s = Math.fma(d, d, s);
    }
    return s;
  }

  @Override
  public double lpSum(float[] x, int off, int len, float s, float z, int qmin, int qmax) {
    Pre.range("lpSum", x, off, len);
    return LpTerms.sum(x, off, len, s, z, qmin, qmax);
  }

  @Override
  public double lpSumUpTo(float[] x, int off, int len, float s, float z, int qmin, int qmax,
      double limit) {
    Pre.range("lpSumUpTo", x, off, len);
    return LpTerms.sum(x, off, len, s, z, qmin, qmax, limit);
  }

  @Override
  public float dot(float[] a, float[] b, int len) {
    Pre.elementwise("dot", len, a, b);
    float[] lanes = new float[Lanes.N];
    int full = len - len % Lanes.N;
    for (int i = 0; i < full; i++) {
      lanes[i % Lanes.N] = Math.fma(a[i], b[i], lanes[i % Lanes.N]);
    }
    float s = Lanes.sumInOrder(lanes);
    for (int i = full; i < len; i++) {
      s = Math.fma(a[i], b[i], s);
    }
    return s;
  }

  // ---------------------------------------------------------------- elementwise

  @Override
  public void add(float[] y, float[] a, float[] b, int len) {
    Pre.elementwise("add", len, y, a, b);
    for (int i = 0; i < len; i++) {
      y[i] = a[i] + b[i];
    }
  }

  @Override
  public void mul(float[] y, float[] a, float[] b, int len) {
    Pre.elementwise("mul", len, y, a, b);
    for (int i = 0; i < len; i++) {
      y[i] = a[i] * b[i];
    }
  }

  @Override
  public void axpy(float[] y, float alpha, float[] x, int len) {
    Pre.elementwise("axpy", len, y, x);
    for (int i = 0; i < len; i++) {
      y[i] = Math.fma(alpha, x[i], y[i]);
    }
  }

  @Override
  public void relu(float[] y, float[] x, int len) {
    Pre.elementwise("relu", len, y, x);
    for (int i = 0; i < len; i++) {
      y[i] = Math.max(x[i], 0f);
    }
  }

  @Override
  public void reluBackward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("reluBackward", len, dx, dy, x);
    for (int i = 0; i < len; i++) {
      if (x[i] > 0f) {
        dx[i] += dy[i];
      }
    }
  }

  @Override
  public void relu6(float[] y, float[] x, int len) {
    Pre.elementwise("relu6", len, y, x);
    for (int i = 0; i < len; i++) {
      y[i] = Math.min(Math.max(x[i], 0f), 6f);
    }
  }

  @Override
  public void relu6Backward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("relu6Backward", len, dx, dy, x);
    for (int i = 0; i < len; i++) {
      if (x[i] > 0f && x[i] < 6f) {
        dx[i] += dy[i];
      }
    }
  }

  @Override
  public void clamp(float[] y, float[] x, float lo, float hi, int len) {
    Pre.elementwise("clamp", len, y, x);
    Check.arg(lo <= hi, "clamp: lo=%s > hi=%s", lo, hi);
    for (int i = 0; i < len; i++) {
      y[i] = Math.min(Math.max(x[i], lo), hi);
    }
  }

  @Override
  public void rint(float[] y, float[] x, int len) {
    Pre.elementwise("rint", len, y, x);
    rintLoop(y, x, len);
  }

  static void rintLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) Math.rint(x[i]);
    }
  }

  @Override
  public void floor(float[] y, float[] x, int len) {
    Pre.elementwise("floor", len, y, x);
    floorLoop(y, x, len);
  }

  static void floorLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) Math.floor(x[i]);
    }
  }

  @Override
  public void sigmoid(float[] y, float[] x, int len) {
    Pre.elementwise("sigmoid", len, y, x);
    sigmoidLoop(y, x, len);
  }

  static void sigmoidLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) (1.0 / (1.0 + StrictMath.exp(-(double) x[i])));
    }
  }

  @Override
  public void exp(float[] y, float[] x, int len) {
    Pre.elementwise("exp", len, y, x);
    expLoop(y, x, len);
  }

  static void expLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) StrictMath.exp(x[i]);
    }
  }

  @Override
  public void log(float[] y, float[] x, int len) {
    Pre.elementwise("log", len, y, x);
    logLoop(y, x, len);
  }

  static void logLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) StrictMath.log(x[i]);
    }
  }

  @Override
  public void softmax(float[] probs, float[] logits, int n, int c) {
    Pre.sizes("softmax", n, c);
    Pre.linear("softmax", probs, logits, "logits", logits, "logits", (long) n * c, 0,
        (long) n * c, "probs");
    softmaxLoop(probs, logits, n, c);
  }

  /** Per row: m = max; e_j = (float) StrictMath.exp(x_j − m); s = Σ e_j in order; p_j = e_j / s. */
  static void softmaxLoop(float[] probs, float[] logits, int n, int c) {
    for (int i = 0; i < n; i++) {
      int r = i * c;
      float mx = Float.NEGATIVE_INFINITY;
      for (int j = 0; j < c; j++) {
        mx = Math.max(mx, logits[r + j]);
      }
      float s = 0f;
      for (int j = 0; j < c; j++) {
        float e = (float) StrictMath.exp(logits[r + j] - mx);
        probs[r + j] = e;
        s += e;
      }
      for (int j = 0; j < c; j++) {
        probs[r + j] /= s;
      }
    }
  }

  // ---------------------------------------------------------------- transformer encoder

  @Override
  public void gemmBatched(float[] c, float[] a, boolean transA, float[] b, boolean transB,
      int batch, int m, int k, int n, boolean accumulate) {
    Pre.gemmBatched(c, a, b, batch, m, k, n);
    Parallel.forRange(cfg.threads(), batch, (t0, t1) -> {
      for (int t = t0; t < t1; t++) {
        gemmAt(c, t * m * n, a, t * m * k, transA, b, t * k * n, transB, m, k, n, accumulate);
      }
    });
  }

  /** {@link #gemm} on one thread, with each matrix starting at an offset. */
  static void gemmAt(float[] c, int cOff, float[] a, int aOff, boolean transA, float[] b, int bOff,
      boolean transB, int m, int k, int n, boolean accumulate) {
    for (int i = 0; i < m; i++) {
      int ci = cOff + i * n;
      if (!accumulate) {
        for (int j = 0; j < n; j++) {
          c[ci + j] = 0f;
        }
      }
      for (int j = 0; j < n; j++) {
        float acc = c[ci + j];
        for (int p = 0; p < k; p++) {
          float av = transA ? a[aOff + p * m + i] : a[aOff + i * k + p];
          float bv = transB ? b[bOff + j * k + p] : b[bOff + p * n + j];
          acc = Math.fma(av, bv, acc);
        }
        c[ci + j] = acc;
      }
    }
  }

  @Override
  public void gelu(float[] y, float[] x, int len) {
    Pre.elementwise("gelu", len, y, x);
    geluLoop(y, x, len);
  }

  private static final double INV_SQRT2 = 1.0 / StrictMath.sqrt(2.0);
  private static final double INV_SQRT_2PI = 1.0 / StrictMath.sqrt(2.0 * StrictMath.PI);

  static void geluLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      double v = x[i];
      y[i] = (float) (0.5 * v * (1.0 + org.qlimit.util.Erf.erf(v * INV_SQRT2)));
    }
  }

  @Override
  public void geluBackward(float[] dx, float[] dy, float[] x, int len) {
    Pre.elementwise("geluBackward", len, dx, dy, x);
    geluBackwardLoop(dx, dy, x, len);
  }

  static void geluBackwardLoop(float[] dx, float[] dy, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      double v = x[i];
      double cdf = 0.5 * (1.0 + org.qlimit.util.Erf.erf(v * INV_SQRT2));
      double pdf = StrictMath.exp(-0.5 * v * v) * INV_SQRT_2PI;
      dx[i] += (float) (dy[i] * (cdf + v * pdf));
    }
  }

  @Override
  public void tanh(float[] y, float[] x, int len) {
    Pre.elementwise("tanh", len, y, x);
    tanhLoop(y, x, len);
  }

  static void tanhLoop(float[] y, float[] x, int len) {
    for (int i = 0; i < len; i++) {
      y[i] = (float) StrictMath.tanh(x[i]);
    }
  }

  @Override
  public void layerNorm(float[] y, float[] xhat, float[] rstd, float[] x, float[] gamma,
      float[] beta, int rows, int h, float eps) {
    Pre.layerNorm(y, xhat, rstd, x, gamma, beta, rows, h);
    layerNormLoop(y, xhat, rstd, x, gamma, beta, rows, h, eps, cfg.threads());
  }

  static void layerNormLoop(float[] y, float[] xhat, float[] rstd, float[] x, float[] gamma,
      float[] beta, int rows, int h, float eps, int threads) {
    Parallel.forRange(threads, rows, (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        int o = r * h;
        double sum = 0;
        for (int j = 0; j < h; j++) {
          sum += x[o + j];
        }
        double mean = sum / h;
        double ss = 0;
        for (int j = 0; j < h; j++) {
          double d = x[o + j] - mean;
          ss += d * d;
        }
        double rs = 1.0 / StrictMath.sqrt(ss / h + eps);
        rstd[r] = (float) rs;
        for (int j = 0; j < h; j++) {
          float xh = (float) ((x[o + j] - mean) * rs);
          xhat[o + j] = xh;
          y[o + j] = Math.fma(xh, gamma[j], beta[j]);
        }
      }
    });
  }

  @Override
  public void layerNormBackward(float[] dx, float[] dgamma, float[] dbeta, float[] dy,
      float[] xhat, float[] rstd, float[] gamma, int rows, int h) {
    Pre.layerNormBackward(dx, dgamma, dbeta, dy, xhat, rstd, gamma, rows, h);
    layerNormBackwardLoop(dx, dgamma, dbeta, dy, xhat, rstd, gamma, rows, h, cfg.threads());
  }

  static void layerNormBackwardLoop(float[] dx, float[] dgamma, float[] dbeta, float[] dy,
      float[] xhat, float[] rstd, float[] gamma, int rows, int h, int threads) {
    Parallel.forRange(threads, rows, (r0, r1) -> {
      for (int r = r0; r < r1; r++) {
        int o = r * h;
        double a = 0;
        double b = 0;
        for (int j = 0; j < h; j++) {
          double g = (double) dy[o + j] * gamma[j];
          a += g;
          b += g * xhat[o + j];
        }
        double am = a / h;
        double bm = b / h;
        double rs = rstd[r];
        for (int j = 0; j < h; j++) {
          double g = (double) dy[o + j] * gamma[j];
          dx[o + j] += (float) (rs * (g - am - xhat[o + j] * bm));
        }
      }
    });
    // parameter gradients: each column over rows in increasing order; threads split columns
    Parallel.forRange(threads, h, (j0, j1) -> {
      for (int j = j0; j < j1; j++) {
        for (int r = 0; r < rows; r++) {
          float d = dy[r * h + j];
          if (dgamma != null) {
            dgamma[j] = Math.fma(d, xhat[r * h + j], dgamma[j]);
          }
          if (dbeta != null) {
            dbeta[j] += d;
          }
        }
      }
    });
  }

  @Override
  public void maskedSoftmax(float[] probs, float[] logits, int[] keyMask, int rows, int c,
      int rowsPerMask) {
    Pre.maskedSoftmax(probs, logits, keyMask, rows, c, rowsPerMask);
    maskedSoftmaxLoop(probs, logits, keyMask, rows, c, rowsPerMask, cfg.threads());
  }

  static void maskedSoftmaxLoop(float[] probs, float[] logits, int[] keyMask, int rows, int c,
      int rowsPerMask, int threads) {
    Parallel.forRange(threads, rows, (i0, i1) -> {
      for (int i = i0; i < i1; i++) {
        int r = i * c;
        int mo = (i / rowsPerMask) * c;
        float mx = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < c; j++) {
          if (keyMask[mo + j] != 0) {
            mx = Math.max(mx, logits[r + j]);
          }
        }
        float s = 0f;
        for (int j = 0; j < c; j++) {
          float e = keyMask[mo + j] != 0 ? (float) StrictMath.exp(logits[r + j] - mx) : 0f;
          probs[r + j] = e;
          s += e;
        }
        for (int j = 0; j < c; j++) {
          probs[r + j] /= s;
        }
      }
    });
  }

  @Override
  public void softmaxBackward(float[] dx, float[] dy, float[] probs, int rows, int c) {
    Pre.elementwise("softmaxBackward", rows * c, dx, dy, probs);
    softmaxBackwardLoop(dx, dy, probs, rows, c, cfg.threads());
  }

  static void softmaxBackwardLoop(float[] dx, float[] dy, float[] probs, int rows, int c,
      int threads) {
    Parallel.forRange(threads, rows, (i0, i1) -> {
      for (int i = i0; i < i1; i++) {
        int r = i * c;
        double dot = 0;
        for (int j = 0; j < c; j++) {
          dot += (double) probs[r + j] * dy[r + j];
        }
        for (int j = 0; j < c; j++) {
          dx[r + j] += (float) (probs[r + j] * (dy[r + j] - dot));
        }
      }
    });
  }

  // ---------------------------------------------------------------- activation quantization

  /** Below this many elements the activation-quantization kernels run on the caller only. */
  static final int ACT_PARALLEL_MIN = 1 << 13;

  @Override
  public void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int n, float s, float z,
      int qmin, int qmax, long maskPrefix, float prob) {
    Pre.fakeQuantDrop(y, keep, x, n, qmin, qmax, prob);
    int threads = n >= ACT_PARALLEL_MIN ? cfg.threads() : 1;
    Parallel.forRange(threads, n, (from, to) -> {
      if (keep != null) {
        dropMask(keep, from, from, to, maskPrefix, prob);
      }
      fakeQuantDropLoop(y, keep, x, from, to, s, z, qmin, qmax);
    });
  }

  @Override
  public float fakeQuantDropBackward(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int n, float s, float z, int qmin, int qmax, float gradScale) {
    Pre.fakeQuantDropBackward(dx, terms, dy, keep, x, n, qmin, qmax);
    int threads = n >= ACT_PARALLEL_MIN ? cfg.threads() : 1;
    Parallel.forRange(threads, n, (from, to) ->
        fakeQuantDropBackwardLoop(dx, terms, dy, keep, x, from, to, s, z, qmin, qmax));
    if (terms == null) {
      return 0f;
    }
    double acc = 0.0;
    for (int i = 0; i < n; i++) {
      acc += terms[i];
    }
    return (float) (gradScale * acc);
  }

  @Override
  public void qdropMix(float[] out, float[] xq, float[] xfp, int n, long maskPrefix, float prob) {
    Pre.qdropMix(out, xq, xfp, n, prob);
    Parallel.forRange(n >= ACT_PARALLEL_MIN ? cfg.threads() : 1, n, (from, to) -> {
      for (int i = from; i < to; i++) {
        out[i] = CounterRng.uniformAt(maskPrefix, i) < prob ? xq[i] : xfp[i];
      }
    });
  }

  /** keep[kOff + i − from] = CounterRng.uniformAt(prefix, i) &lt; prob for i in [from, to). */
  static void dropMask(boolean[] keep, int kOff, int from, int to, long prefix, float prob) {
    int d = kOff - from;
    for (int i = from; i < to; i++) {
      keep[d + i] = CounterRng.uniformAt(prefix, i) < prob;
    }
  }

  /** u = ⌊x/s⌉ + z in float32 (x/s one float division, Math.rint). */
  static float actLevel(float x, float s, float z) {
    return (float) Math.rint(x / s) + z;
  }

  /** (clamp(⌊x/s⌉ + z, qmin, qmax) − z)·s in float32. */
  static float actFakeQuant(float x, float s, float z, int qmin, int qmax) {
    return (Math.min(Math.max(actLevel(x, s, z), qmin), qmax) - z) * s;
  }

  /** y[i] = keep[i] ? fq(x[i]) : x[i] over [from, to), the mask given (keep null: y = fq(x)). */
  static void fakeQuantDropLoop(float[] y, boolean[] keep, float[] x, int from, int to, float s,
      float z, int qmin, int qmax) {
    for (int i = from; i < to; i++) {
      float xi = x[i];
      float q = actFakeQuant(xi, s, z, qmin, qmax);
      y[i] = keep == null || keep[i] ? q : xi;
    }
  }

  /** ∂x̂/∂s of one element, in double ({@link Kernels#fakeQuantDropBackward}). */
  static double actScaleGrad(float x, float u, float s, float z, int qmin, int qmax) {
    if (u < qmin) {
      return (double) qmin - z;
    }
    if (u > qmax) {
      return (double) qmax - z;
    }
    return ((double) u - z) - (double) x / (double) s;
  }

  /**
   * {@link Kernels#fakeQuantDropBackward} over [from, to) with every term written:
   * terms[i] = (double) dq_i · ∂x̂_i/∂s (when terms is not null).
   */
  static void fakeQuantDropBackwardLoop(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int from, int to, float s, float z, int qmin, int qmax) {
    for (int i = from; i < to; i++) {
      float dyi = dy[i];
      boolean kept = keep == null || keep[i];
      float dq = keep == null ? dyi : kept ? 0f + dyi : 0f;
      float u = actLevel(x[i], s, z);
      if (dx != null) {
        if (!kept) {
          dx[i] += dyi;
        }
        if (u >= qmin && u <= qmax) {
          dx[i] += dq;
        }
      }
      if (terms != null) {
        terms[i] = (double) dq * actScaleGrad(x[i], u, s, z, qmin, qmax);
      }
    }
  }

  @Override
  public void squaredDiffGrad(float[] da, float[] a, float[] b, int len, double scale) {
    Pre.elementwise("squaredDiffGrad", len, da, a, b);
    Parallel.forRange(len >= ACT_PARALLEL_MIN ? cfg.threads() : 1, len,
        (from, to) -> squaredDiffGradLoop(da, a, b, from, to, scale));
  }

  /** {@link Kernels#squaredDiffGrad} over [from, to). */
  static void squaredDiffGradLoop(float[] da, float[] a, float[] b, int from, int to,
      double scale) {
    for (int i = from; i < to; i++) {
      double diff = (double) a[i] - b[i];
      da[i] += (float) (2 * diff * scale);
    }
  }
}
