package org.qlimit.kernel;

import org.qlimit.util.NumericsConfig;
import org.qlimit.util.VectorWidth;

/**
 * The raw numeric loops of qlimit, over flat {@code float[]} arrays in row-major order.
 *
 * <p>Two implementations: {@link ScalarKernels}, plain loops that are the readable reference, and
 * {@link SimdKernels}, the Vector API version. Both give bit-identical results: every output element
 * accumulates over its reduction index in increasing order with {@code Math.fma} (or lanewise fma),
 * and sums over many elements use {@link org.qlimit.util.NumericsConfig#LOGICAL_LANES} logical
 * lanes combined in a fixed order ({@link Lanes}). Threads split only independent outputs.
 *
 * <p>Conventions (EJML style): outputs come first; an output never aliases an input (checked);
 * backward kernels <b>accumulate</b> into their gradient outputs (zeroing is the caller's explicit
 * step); sizes are checked before any index is touched. Unless a method says otherwise, the
 * leading output arrays are Modified and every other array argument is Not modified.
 *
 * <p>Threads and vector width never change a result: tests hold {@link SimdKernels} at 128, 256
 * and 512 bits and 1, 2 and 4 threads to the bits of {@link ScalarKernels}.
 */
public interface Kernels {

  /** The kernels for a configuration: scalar when {@code vectorBits == 0}, else SIMD of that width. */
  static Kernels of(NumericsConfig cfg) {
    return cfg.vectorBits() == 0 ? new ScalarKernels(cfg.threads()) : new SimdKernels(cfg);
  }

  /** Registers the machine's preferred vector width with {@link VectorWidth} (no other effect). */
  static void registerPreferredWidth() {
    SimdKernels.registerPreferredWidth();
  }

  NumericsConfig config();

  // ---------------------------------------------------------------- GEMM
  /**
   * c (m×n) = a (m×k) · b (k×n), or {@code c += ...} when accumulate. Row-major, dense.
   * Each c[i][j] accumulates over p = 0..k-1 in order with fma, starting from 0 (or from c when
   * accumulating). Requires c≠a, c≠b. a: Not modified. b: Not modified. c: Modified.
   */
  void gemmNN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate);

  /** c (m×n) = a (m×k) · bᵀ where b is (n×k); accumulation order as in gemmNN. */
  void gemmNT(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate);

  /** c (m×n) = aᵀ · b where a is (k×m) and b is (k×n); accumulation order as in gemmNN. */
  void gemmTN(float[] c, float[] a, float[] b, int m, int k, int n, boolean accumulate);

  // ---------------------------------------------------------------- convolution
  /**
   * y = conv2d(x, w) + bias. x: (n,cin,h,w), w: (cout,cin/g,kh,kw), bias: (cout) or null,
   * y: (n,cout,ho,wo). Each y element is an fma chain over (ci, ky, kx) in that lexicographic order,
   * starting from 0, <b>including padded positions as zeros</b> ({@code acc = fma(0, w, acc)}, which
   * is what im2col + GEMM computes; skipping them could differ in the sign of a zero result); the
   * bias is added last ({@code y = acc + bias[co]}; without bias {@code y = acc}).
   * x, w, bias: Not modified. y: Modified (overwritten).
   */
  void conv2dForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s);

  /**
   * dx += conv2d_backward_data(dy, w). dx: (n,cin,h,w) accumulated; dy: (n,cout,ho,wo).
   * Order (the col2im definition): for each batch item, group, and (ci, ky, kx, oy, ox) in
   * lexicographic order, {@code v} = fma chain over the group's output channels co (increasing,
   * from 0) of {@code w[co,ci,ky,kx]·dy[n,co,oy,ox]}; then {@code dx[n,ci,iy,ix] += v} when
   * (iy, ix) is inside the image. dy, w: Not modified. dx: Modified.
   */
  void conv2dBackwardData(float[] dx, float[] dy, float[] w, ConvShape s);

  /**
   * dw += Σ_batch,positions dy ⊗ x-patch; db += Σ dy over (n, ho, wo) when db is not null.
   * Reduction order: batch item, then output row, then output column, in increasing order.
   * Each dw element is one fma chain {@code acc = fma(dy, x, acc)} starting from its current value,
   * with padded positions included as x = 0; db is a chain of plain adds starting from db.
   * dy, x: Not modified. dw, db: Modified (accumulated).
   */
  void conv2dBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, ConvShape s);

  // ---------------------------------------------------------------- linear
  /**
   * y (n×out) = x (n×in) · wᵀ + bias; w is (out×in); bias (out) or null. Each y element is an fma
   * chain over in from 0 (gemmNT order), then {@code + bias[o]}. x, w, bias: Not modified.
   */
  void linearForward(float[] y, float[] x, float[] w, float[] bias, int n, int in, int out);

  /** dx (n×in) += dy · w: an fma chain over out starting from dx (gemmNN, accumulating). */
  void linearBackwardData(float[] dx, float[] dy, float[] w, int n, int in, int out);

  /**
   * dw (out×in) += dyᵀ · x, an fma chain over n starting from dw (gemmTN, accumulating);
   * db (out) += Σ_n dy when db is not null (plain adds over n in order, starting from db).
   */
  void linearBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, int n, int in, int out);

  // ---------------------------------------------------------------- pooling
  /** y (nc) = (16-lane sum over hw of x (nc × hw)) / hw. */
  void globalAvgPool(float[] y, float[] x, int nc, int hw);

  /** dx (nc × hw) += dy / hw broadcast (the quotient is computed once per row). */
  void globalAvgPoolBackward(float[] dx, float[] dy, int nc, int hw);

  // ---------------------------------------------------------------- reductions
  /** Σ x[off .. off+len) with 16 logical lanes summed in a fixed order (see {@link Lanes}). */
  float sum(float[] x, int off, int len);

  /** Σ (a[i] − b[i])² over [0, len), 16 logical lanes, fixed order. */
  float sumSquaredDiff(float[] a, float[] b, int len);

  /** Σ a[i]·b[i] over [0, len), 16 logical lanes, fixed order. */
  float dot(float[] a, float[] b, int len);

  /**
   * The Lp range-search score sum Σ |x − x̂|^2.4 over x[off, off+len), x̂ the float32 fake
   * quantization with scale s, zero point z and levels [qmin, qmax]: exactly {@link LpTerms#sum}
   * (chunked 16-lane float sums added into a double). x: Not modified.
   */
  double lpSum(float[] x, int off, int len, float s, float z, int qmin, int qmax);

  /**
   * {@link #lpSum} with an early stop, for searches that only need to know whether a sum exceeds
   * a bound: exactly {@link LpTerms#sum(float[], int, int, float, float, int, int, double)}, i.e.
   * the running double total after the first chunk of {@link LpTerms#CHUNK} elements at which it
   * exceeds {@code limit}, else the full sum. The result exceeds limit exactly when lpSum does,
   * is at most lpSum, and equals it when it is at most limit. x: Not modified.
   */
  double lpSumUpTo(float[] x, int off, int len, float s, float z, int qmin, int qmax,
      double limit);

  /**
   * The Lp reconstruction loss (p ≥ 1): {@code (float) (Σ_i StrictMath.pow(|a_i − b_i|, p) / m)}
   * over [0, len), differences and sum in double, index order, exactly as
   * {@link RoundedPow#lossMeanStrict} (computed by {@link RoundedPow#lossMean}). a, b: Not
   * modified.
   */
  float lpLossMean(float[] a, float[] b, int len, double p, double m);

  /**
   * Its gradient, accumulated: {@code da[i] += (float) ((p · StrictMath.pow(|d|, p − 1) ·
   * signum(d)) · scale)}, d = a[i] − b[i] in double, i in [0, len), exactly as
   * {@link RoundedPow#lossGradStrict}; elementwise, split across threads. da: Modified; a, b: Not
   * modified.
   */
  void lpLossGrad(float[] da, float[] a, float[] b, int len, double p, double scale);

  /**
   * AdaRound's rounding regulariser as the loss uses it (β &gt; 0):
   * {@code (float) (λ · Σ_i (1 − |2h_i − 1|^β))} over [0, n), StrictMath.pow in double (skipped
   * where |2h − 1| is 0 or 1), summed in index order, exactly as
   * {@link RoundedPow#regularizerStrict}. h: Not modified.
   */
  float roundingRegularizer(float[] h, int n, double lambda, double beta);

  /**
   * Its gradient, accumulated where dh[i] ≠ 0: {@code dAlpha[i] += (float) (gradOut · λ · (−β ·
   * |2h − 1|^(β−1) · signum(2h − 1) · 2) · dh[i])}, exactly as
   * {@link RoundedPow#regularizerGradStrict}; elementwise, split across threads. dAlpha:
   * Modified; h, dh: Not modified.
   */
  void roundingRegularizerGrad(float[] dAlpha, float[] h, double[] dh, int n, double lambda,
      double beta, double gradOut);

  // ---------------------------------------------------------------- elementwise (len elements)
  /** y = a + b. y may equal a or b (elementwise ops are alias-safe). */
  void add(float[] y, float[] a, float[] b, int len);

  /** y = a * b. */
  void mul(float[] y, float[] a, float[] b, int len);

  /** y = fma(alpha, x, y). */
  void axpy(float[] y, float alpha, float[] x, int len);

  /** y = max(x, 0). */
  void relu(float[] y, float[] x, int len);

  /** dx += dy where x > 0. */
  void reluBackward(float[] dx, float[] dy, float[] x, int len);

  /** y = min(max(x, 0), 6). */
  void relu6(float[] y, float[] x, int len);

  /** dx += dy where 0 < x < 6. */
  void relu6Backward(float[] dx, float[] dy, float[] x, int len);

  /** y = min(max(x, lo), hi). */
  void clamp(float[] y, float[] x, float lo, float hi, int len);

  /** y = round-half-even(x) (Math.rint). */
  void rint(float[] y, float[] x, int len);

  /** y = floor(x). */
  void floor(float[] y, float[] x, int len);

  /** y = (float) (1/(1+StrictMath.exp(−x))), computed in double. */
  void sigmoid(float[] y, float[] x, int len);

  /** y = exp(x), StrictMath. */
  void exp(float[] y, float[] x, int len);

  /** y = log(x), StrictMath. */
  void log(float[] y, float[] x, int len);

  // ---------------------------------------------------------------- classification losses
  /**
   * Row-wise softmax of logits (n×c) into probs (n×c), max-subtracted, StrictMath.exp, each row
   * summed in index order.
   */
  void softmax(float[] probs, float[] logits, int n, int c);

  // ---------------------------------------------------------------- transformer encoder
  /**
   * Batched GEMM: for t = 0..batch-1, C_t (m×n) = op(A_t) · op(B_t), or {@code C_t += ...} when
   * accumulate. A_t starts at a[t·m·k] and is m×k row-major, or k×m when transA; B_t starts at
   * b[t·k·n] and is k×n, or n×k when transB; C_t starts at c[t·m·n]. Each element accumulates
   * over p = 0..k-1 in order with fma, as {@link #gemmNN}. Threads split batch items. Requires
   * c≠a, c≠b. c: Modified.
   */
  void gemmBatched(float[] c, float[] a, boolean transA, float[] b, boolean transB, int batch,
      int m, int k, int n, boolean accumulate);

  /**
   * GELU, erf form (Hendrycks and Gimpel 2016; BERT's "gelu"): y = x·Φ(x) =
   * 0.5·x·(1 + erf(x/√2)), computed in double with {@link org.qlimit.util.Erf}, rounded once.
   */
  void gelu(float[] y, float[] x, int len);

  /** dx += dy · (Φ(x) + x·φ(x)), φ the standard normal density; computed in double. */
  void geluBackward(float[] dx, float[] dy, float[] x, int len);

  /** y = StrictMath.tanh(x). */
  void tanh(float[] y, float[] x, int len);

  /**
   * LayerNorm over the last axis (Ba et al. 2016) of x (rows × h): per row, μ = Σ x_j / h and
   * σ² = Σ (x_j − μ)² / h (both summed in index order in double), rstd = 1/√(σ² + eps),
   * x̂_j = (float) ((x_j − μ)·rstd), y_j = fma(x̂_j, γ_j, β_j). Also writes x̂ (rows × h) and rstd
   * (rows) for the backward pass. Threads split rows. y, xhat, rstd: Modified.
   */
  void layerNorm(float[] y, float[] xhat, float[] rstd, float[] x, float[] gamma, float[] beta,
      int rows, int h, float eps);

  /**
   * Backward of {@link #layerNorm}: with g_j = dy_j·γ_j, a = Σ g_j and b = Σ g_j·x̂_j (double, in
   * order), dx_j += rstd·(g_j − a/h − x̂_j·b/h); dγ_j += Σ_rows dy_j·x̂_j and dβ_j += Σ_rows dy_j,
   * rows in increasing order. dx, dgamma, dbeta: Modified (accumulated); dgamma/dbeta may be null.
   */
  void layerNormBackward(float[] dx, float[] dgamma, float[] dbeta, float[] dy, float[] xhat,
      float[] rstd, float[] gamma, int rows, int h);

  /**
   * Row-wise softmax of logits (rows × c) over the columns j with keyMask[(i / rowsPerMask)·c + j]
   * ≠ 0; masked columns get probability exactly 0 (the limit of BERT's additive −∞ mask). Same
   * order as {@link #softmax} over the unmasked columns. Every row must keep one column.
   */
  void maskedSoftmax(float[] probs, float[] logits, int[] keyMask, int rows, int c,
      int rowsPerMask);

  /** Softmax backward per row: dx_j += p_j·(dy_j − Σ_k p_k·dy_k), the sum in order in double. */
  void softmaxBackward(float[] dx, float[] dy, float[] probs, int rows, int c);

  // ---------------------------------------------------------------- activation quantization
  // (QDrop's dropping and LSQ fake quantization, elementwise; quant.ActQuantizer and the QDrop
  // input mixing of recon.Reconstructor are their callers)

  /**
   * Per-tensor activation fake quantization with QDrop's dropping (ALGORITHMS.md §1, §4.2), for
   * i in [0, n), with fq(x) = (clamp(⌊x/s⌉ + z, qmin, qmax) − z)·s in float32 (x/s one float
   * division, ⌊·⌉ Math.rint; quant.FakeQuant's definition):
   *
   * <pre>
   *   keep[i] = CounterRng.uniformAt(maskPrefix, i) &lt; prob      (quant.QDropMask's mask)
   *   y[i]    = keep[i] ? fq(x[i]) : x[i]
   * </pre>
   *
   * With {@code keep == null} there is no dropping: y = fq(x), and maskPrefix and prob are unused.
   * y may alias x. y, keep: Modified. x: Not modified.
   *
   * @param maskPrefix {@code CounterRng.prefix(siteSeed, QDROP_MASK, step)} of the mixing point
   * @param prob probability of keeping the quantized value, in [0, 1]
   */
  void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int n, float s, float z, int qmin,
      int qmax, long maskPrefix, float prob);

  /**
   * Backward of {@link #fakeQuantDrop} (straight-through estimator for x, LSQ for the step,
   * Esser et al. 2020). With dq_i = 0f + dy_i where keep[i] and 0 where not (keep null: dq = dy),
   * and u_i = ⌊x_i/s⌉ + z in float32, in this order for each i in [0, n):
   *
   * <pre>
   *   dx[i] += dy[i]   where !keep[i]               (the dropped element's gradient goes to x)
   *   dx[i] += dq_i    where qmin ≤ u_i ≤ qmax      (STE through the clamp, bounds included)
   * </pre>
   *
   * (dx null: skipped), and returns the step's gradient {@code (float) (gradScale · Σ_i (double)
   * dq_i · ∂x̂_i/∂s)}, the sum in double in increasing i, with ∂x̂/∂s = (double) qmin − z where
   * u &lt; qmin, (double) qmax − z where u &gt; qmax, else ((double) u − z) − (double) x/(double) s
   * (quant.FakeQuant's backward). With {@code terms == null} no step gradient is formed and 0 is
   * returned. The result does not depend on threads or vector width.
   *
   * @param dx Modified (accumulated), or null
   * @param terms scratch of at least n doubles, Modified; or null
   */
  float fakeQuantDropBackward(float[] dx, double[] terms, float[] dy, boolean[] keep, float[] x,
      int n, float s, float z, int qmin, int qmax, float gradScale);

  /**
   * QDrop's mixing of an input (ALGORITHMS.md §4.2): out[i] = CounterRng.uniformAt(maskPrefix, i)
   * &lt; prob ? xq[i] : xfp[i] for i in [0, n); the mask is not stored. out may alias xq or xfp.
   * out: Modified. xq, xfp: Not modified (unless aliased).
   */
  void qdropMix(float[] out, float[] xq, float[] xfp, int n, long maskPrefix, float prob);

  /**
   * Gradient of the mean squared reconstruction loss (autograd.Functions.reconLoss with p = 2),
   * accumulated: {@code da[i] += (float) (2·((double) a[i] − b[i])·scale)} for i in [0, len), the
   * products in double in that order; elementwise, split across threads. da: Modified; a, b: Not
   * modified.
   */
  void squaredDiffGrad(float[] da, float[] a, float[] b, int len, double scale);
}
