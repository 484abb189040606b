package org.qlimit.autograd;

import java.util.Arrays;
import org.qlimit.kernel.ConvShape;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The differentiable primitives of qlimit and their backward rules, one rule per primitive, all in
 * this file. Each function computes its forward value with the graph's {@link Kernels} and, when
 * the graph records and an input requires a gradient, appends one node whose rule accumulates
 * {@code dL/dinput} from {@code dL/doutput}.
 *
 * <p>Ops outside this package with a hand-written gradient (the quantizers) register through
 * {@link #custom}; each such op has its derivation in its Javadoc and a gradient check.
 */
public final class Functions {
  private Functions() {}

  private static Var result(Graph g, Tensor value, Var... inputs) {
    return new Var(value, g.needsGrad(inputs), null);
  }

  private static float[] d(Var v) {
    return v.value().contiguous().data();
  }

  /**
   * Registers an op computed elsewhere: {@code out} is its forward value; {@code rule} must
   * accumulate into the gradients of the inputs that require them, reading {@code result.grad()}.
   * Returns the output Var (recorded only when needed).
   */
  public static Var custom(Graph g, String op, Tensor out, Var[] inputs, CustomRule rule) {
    Var y = result(g, out, inputs);
    if (y.requiresGrad()) {
      g.record(op, y, () -> rule.backward(y.grad()));
    }
    return y;
  }

  /** Backward of a custom op: given dL/dy, accumulate into the inputs' gradients. */
  @FunctionalInterface
  public interface CustomRule {
    void backward(Tensor dy);
  }

  // ------------------------------------------------------------------ convolution, linear
  /**
   * y = conv2d(x, w) + b. x: (N, Cin, H, W); w: (Cout, Cin/groups, kH, kW); b: (Cout) or null;
   * y: (N, Cout, Ho, Wo). Backward: dx += conv_transpose(dy, w); dw += Σ dy ⊗ patches(x);
   * db += Σ_{n,h,w} dy.
   */
  public static Var conv2d(Graph g, Var x, Var w, Var b, int stride, int pad, int groups) {
    int[] xs = x.shape();
    int[] ws = w.shape();
    Check.arg(xs.length == 4 && ws.length == 4,
        "conv2d: expected x (N,C,H,W) and w (Cout,Cin/g,kH,kW), got x%s w%s",
        Arrays.toString(xs), Arrays.toString(ws));
    Check.arg(xs[1] == ws[1] * groups,
        "conv2d: input has %d channels but weight %s with groups=%d expects %d",
        xs[1], Arrays.toString(ws), groups, ws[1] * groups);
    if (b != null) {
      Check.arg(b.value().hasShape(ws[0]), "conv2d: bias shape %s, expected [%d]",
          Arrays.toString(b.shape()), ws[0]);
    }
    ConvShape s = new ConvShape(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], stride, pad,
        groups);
    Tensor y = Tensor.zeros(xs[0], ws[0], s.ho(), s.wo());
    float[] xd = d(x);
    float[] wd = d(w);
    g.kernels().conv2dForward(y.data(), xd, wd, b == null ? null : d(b), s);
    Var out = result(g, y, x, w, b);
    if (out.requiresGrad()) {
      g.record("conv2d", out, () -> {
        float[] dy = out.grad().data();
        if (x.requiresGrad()) {
          g.kernels().conv2dBackwardData(x.grad().data(), dy, wd, s);
        }
        if (w.requiresGrad() || (b != null && b.requiresGrad())) {
          float[] dw = w.requiresGrad() ? w.grad().data() : new float[wd.length];
          float[] db = b != null && b.requiresGrad() ? b.grad().data() : null;
          g.kernels().conv2dBackwardWeight(dw, db, dy, xd, s);
        }
      });
    }
    return out;
  }

  /**
   * y = x·wᵀ + b. x: (N, In); w: (Out, In); b: (Out) or null; y: (N, Out).
   * Backward: dx += dy·w; dw += dyᵀ·x; db += Σ_n dy.
   */
  public static Var linear(Graph g, Var x, Var w, Var b) {
    int[] xs = x.shape();
    int[] ws = w.shape();
    Check.arg(xs.length == 2 && ws.length == 2 && xs[1] == ws[1],
        "linear: x%s does not match weight%s (expected x (N,%d))", Arrays.toString(xs),
        Arrays.toString(ws), ws.length == 2 ? ws[1] : -1);
    int n = xs[0];
    int in = xs[1];
    int outF = ws[0];
    Tensor y = Tensor.zeros(n, outF);
    float[] xd = d(x);
    float[] wd = d(w);
    g.kernels().linearForward(y.data(), xd, wd, b == null ? null : d(b), n, in, outF);
    Var out = result(g, y, x, w, b);
    if (out.requiresGrad()) {
      g.record("linear", out, () -> {
        float[] dy = out.grad().data();
        if (x.requiresGrad()) {
          g.kernels().linearBackwardData(x.grad().data(), dy, wd, n, in, outF);
        }
        if (w.requiresGrad() || (b != null && b.requiresGrad())) {
          float[] dw = w.requiresGrad() ? w.grad().data() : new float[wd.length];
          float[] db = b != null && b.requiresGrad() ? b.grad().data() : null;
          g.kernels().linearBackwardWeight(dw, db, dy, xd, n, in, outF);
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ elementwise
  /** y = a + b (same shapes). Backward: da += dy; db += dy. */
  public static Var add(Graph g, Var a, Var b) {
    Check.arg(a.value().sameShape(b.value()), "add: shapes %s and %s differ",
        Arrays.toString(a.shape()), Arrays.toString(b.shape()));
    Tensor y = Tensor.zeros(a.shape());
    g.kernels().add(y.data(), d(a), d(b), y.numel());
    Var out = result(g, y, a, b);
    if (out.requiresGrad()) {
      g.record("add", out, () -> {
        float[] dy = out.grad().data();
        if (a.requiresGrad()) {
          g.kernels().axpy(a.grad().data(), 1f, dy, dy.length);
        }
        if (b.requiresGrad()) {
          g.kernels().axpy(b.grad().data(), 1f, dy, dy.length);
        }
      });
    }
    return out;
  }

  /** y = max(x, 0). Backward: dx += dy·[x > 0]. */
  public static Var relu(Graph g, Var x) {
    float[] xd = d(x);
    Tensor y = Tensor.zeros(x.shape());
    g.kernels().relu(y.data(), xd, xd.length);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("relu", out, () -> g.kernels().reluBackward(x.grad().data(), out.grad().data(), xd,
          xd.length));
    }
    return out;
  }

  /** y = min(max(x, 0), 6). Backward: dx += dy·[0 < x < 6]. */
  public static Var relu6(Graph g, Var x) {
    float[] xd = d(x);
    Tensor y = Tensor.zeros(x.shape());
    g.kernels().relu6(y.data(), xd, xd.length);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("relu6", out, () -> g.kernels().relu6Backward(x.grad().data(), out.grad().data(),
          xd, xd.length));
    }
    return out;
  }

  /** y = a + b for scalars (loss terms). Backward: da += dy; db += dy. */
  public static Var addScalars(Graph g, Var a, Var b) {
    Check.arg(a.value().numel() == 1 && b.value().numel() == 1, "addScalars: needs two scalars");
    Var out = result(g, Tensor.scalar(a.value().item() + b.value().item()), a, b);
    if (out.requiresGrad()) {
      g.record("addScalars", out, () -> {
        float dy = out.grad().data()[0];
        if (a.requiresGrad()) {
          a.grad().data()[0] += dy;
        }
        if (b.requiresGrad()) {
          b.grad().data()[0] += dy;
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ shape
  /** y = x reshaped (same element order). Backward: dx += dy reshaped. */
  public static Var reshape(Graph g, Var x, int... shape) {
    Tensor y = x.value().contiguous().reshape(shape);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("reshape", out, () -> g.kernels().axpy(x.grad().data(), 1f, out.grad().data(),
          x.value().numel()));
    }
    return out;
  }

  /**
   * The parameter-free "option A" ResNet shortcut: y = x[:, :, ::2, ::2] zero-padded along
   * channels with {@code padC} channels before and after. x: (N, C, H, W); y: (N, C + 2·padC,
   * ceil(H/2), ceil(W/2)). Backward: dx[:, :, ::2, ::2] += dy[:, padC:padC+C].
   */
  public static Var subsamplePadChannels(Graph g, Var x, int padC) {
    int[] s = x.shape();
    Check.arg(s.length == 4, "subsamplePadChannels: expected (N,C,H,W), got %s",
        Arrays.toString(s));
    int n = s[0];
    int c = s[1];
    int h = s[2];
    int w = s[3];
    int ho = (h + 1) / 2;
    int wo = (w + 1) / 2;
    int co = c + 2 * padC;
    float[] xd = d(x);
    Tensor y = Tensor.zeros(n, co, ho, wo);
    float[] yd = y.data();
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int xo = (b * c + ch) * h * w;
        int yo = (b * co + ch + padC) * ho * wo;
        for (int i = 0; i < ho; i++) {
          for (int j = 0; j < wo; j++) {
            yd[yo + i * wo + j] = xd[xo + 2 * i * w + 2 * j];
          }
        }
      }
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("subsamplePadChannels", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int b = 0; b < n; b++) {
          for (int ch = 0; ch < c; ch++) {
            int xo = (b * c + ch) * h * w;
            int yo = (b * co + ch + padC) * ho * wo;
            for (int i = 0; i < ho; i++) {
              for (int j = 0; j < wo; j++) {
                dx[xo + 2 * i * w + 2 * j] += dy[yo + i * wo + j];
              }
            }
          }
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ pooling
  /** y (N, C) = mean over H·W of x (N, C, H, W). Backward: dx += dy / (H·W). */
  public static Var globalAvgPool(Graph g, Var x) {
    int[] s = x.shape();
    Check.arg(s.length == 4, "globalAvgPool: expected (N,C,H,W), got %s", Arrays.toString(s));
    int nc = s[0] * s[1];
    int hw = s[2] * s[3];
    Tensor y = Tensor.zeros(s[0], s[1]);
    g.kernels().globalAvgPool(y.data(), d(x), nc, hw);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("globalAvgPool", out, () -> g.kernels().globalAvgPoolBackward(x.grad().data(),
          out.grad().data(), nc, hw));
    }
    return out;
  }

  /**
   * Max pooling as PyTorch's {@code max_pool2d(x, k, stride, padding)} (dilation 1, floor mode):
   * y[n, c, i, j] = max over the k×k window at (i·stride − pad, j·stride − pad) of x, where
   * padded positions count as −∞ (they never win). x: (N, C, H, W); y: (N, C, Ho, Wo) with
   * Ho = ⌊(H + 2·pad − k) / stride⌋ + 1 (likewise Wo). Requires pad ≤ k / 2, so every window
   * holds at least one real element.
   *
   * <p>Ties: the first maximum in scan order (window rows top to bottom, columns left to right)
   * is the argmax, as PyTorch's CPU kernel, which replaces the running maximum only on a strictly
   * greater value. NaN propagates: a NaN in the window becomes the output and the argmax.
   * Backward: dx[argmax(n, c, i, j)] += dy[n, c, i, j] (overlapping windows accumulate).
   */
  public static Var maxPool2d(Graph g, Var x, int k, int stride, int pad) {
    int[] s = x.shape();
    Check.arg(s.length == 4, "maxPool2d: expected (N,C,H,W), got %s", Arrays.toString(s));
    Check.arg(k > 0 && stride > 0 && pad >= 0 && 2 * pad <= k,
        "maxPool2d: bad kernel/stride/pad %d/%d/%d (need pad <= k/2)", k, stride, pad);
    int nc = s[0] * s[1];
    int h = s[2];
    int w = s[3];
    Check.arg(h + 2 * pad >= k && w + 2 * pad >= k, "maxPool2d: %dx%d input smaller than k=%d",
        h, w, k);
    int ho = (h + 2 * pad - k) / stride + 1;
    int wo = (w + 2 * pad - k) / stride + 1;
    float[] xd = d(x);
    Tensor y = Tensor.zeros(s[0], s[1], ho, wo);
    float[] yd = y.data();
    int[] arg = new int[yd.length];
    for (int p = 0; p < nc; p++) {
      int xo = p * h * w;
      for (int i = 0; i < ho; i++) {
        int r0 = i * stride - pad;
        for (int j = 0; j < wo; j++) {
          int c0 = j * stride - pad;
          float best = Float.NEGATIVE_INFINITY;
          int bestAt = -1;
          for (int r = Math.max(r0, 0); r < Math.min(r0 + k, h); r++) {
            for (int c = Math.max(c0, 0); c < Math.min(c0 + k, w); c++) {
              float v = xd[xo + r * w + c];
              if (bestAt < 0 || v > best || (Float.isNaN(v) && !Float.isNaN(best))) {
                best = v;
                bestAt = xo + r * w + c;
              }
            }
          }
          int yi = (p * ho + i) * wo + j;
          yd[yi] = best;
          arg[yi] = bestAt;
        }
      }
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("maxPool2d", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int i = 0; i < dy.length; i++) {
          dx[arg[i]] += dy[i];
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ losses
  /**
   * Reconstruction loss of ALGORITHMS.md §4: L = (1/M) Σ_i |ŷ_i − y_i|^p where M = numel / C is the
   * number of (batch, position) pairs (so the sum over channels is averaged over the rest). p = 2
   * gives the squared error; BRECQ's activation phase uses p = 2.4. The target is a constant.
   * Backward: dŷ += p·|ŷ − y|^(p−1)·sign(ŷ − y) / M. For p ≠ 2 the powers are StrictMath.pow in
   * double, the sum in index order ({@link Kernels#lpLossMean}, {@link Kernels#lpLossGrad} give
   * those bits without calling it per element).
   */
  public static Var reconLoss(Graph g, Var pred, Tensor target, double p) {
    Check.arg(pred.value().sameShape(target), "reconLoss: prediction %s and target %s differ",
        Arrays.toString(pred.shape()), Arrays.toString(target.shape()));
    int[] s = pred.shape();
    Check.arg(s.length >= 2, "reconLoss: expected (N, C, ...), got %s", Arrays.toString(s));
    Check.arg(p >= 1, "reconLoss: p must be >= 1, got %s", p);
    float[] a = d(pred);
    float[] t = target.contiguous().data();
    long m = a.length / s[1];
    float loss;
    if (p == 2.0) {
      loss = (float) (g.kernels().sumSquaredDiff(a, t, a.length) / (double) m);
    } else {
      // (float) (Σ StrictMath.pow(|a − t|, p) / m), index order; the same bits, fast
      loss = g.kernels().lpLossMean(a, t, a.length, p, m);
    }
    Var out = result(g, Tensor.scalar(loss), pred);
    if (out.requiresGrad()) {
      g.record("reconLoss", out, () -> {
        float dy = out.grad().data()[0];
        float[] da = pred.grad().data();
        double scale = dy / (double) m;
        if (p == 2.0) {
          // da += (float) (2·((double) a − t)·scale), elementwise
          g.kernels().squaredDiffGrad(da, a, t, a.length, scale);
        } else {
          // da += (float) (p·StrictMath.pow(|d|, p − 1)·signum(d)·scale): elementwise, same bits
          g.kernels().lpLossGrad(da, a, t, a.length, p, scale);
        }
      });
    }
    return out;
  }

  /**
   * BRECQ's diagonal-Fisher reconstruction loss (reference {@code quant/block_recon.py} l.151,
   * {@code ((pred - tgt).pow(2) * grad.pow(2)).sum(1).mean()}):
   * L = (1/M) Σ_i (a_i · (ŷ_i − y_i))², M = numel / C (the normalisation of {@link #reconLoss}),
   * with a the per-element Fisher factor (the reference's |g| + 1). Summed in double in index
   * order. Backward: dŷ_i += 2 a_i² (ŷ_i − y_i) / M · dL. With a ≡ 1 the gradient has the bits of
   * {@code reconLoss(p = 2)}; the loss agrees to float rounding (that one sums in float lanes).
   * pred: (N, C, ...); target, weight: the same shape. target, weight: Not modified.
   */
  public static Var fisherDiagLoss(Graph g, Var pred, Tensor target, Tensor weight) {
    Check.arg(pred.value().sameShape(target) && pred.value().sameShape(weight),
        "fisherDiagLoss: prediction %s, target %s and weight %s differ",
        Arrays.toString(pred.shape()), Arrays.toString(target.shape()),
        Arrays.toString(weight.shape()));
    int[] s = pred.shape();
    Check.arg(s.length >= 2, "fisherDiagLoss: expected (N, C, ...), got %s", Arrays.toString(s));
    float[] a = d(pred);
    float[] t = target.contiguous().data();
    float[] w = weight.contiguous().data();
    long m = a.length / s[1];
    double acc = 0;
    for (int i = 0; i < a.length; i++) {
      double e = w[i] * ((double) a[i] - t[i]);
      acc += e * e;
    }
    Var out = result(g, Tensor.scalar((float) (acc / m)), pred);
    if (out.requiresGrad()) {
      g.record("fisherDiagLoss", out, () -> {
        float dy = out.grad().data()[0];
        float[] da = pred.grad().data();
        double scale = dy / (double) m;
        for (int i = 0; i < a.length; i++) {
          double diff = (double) a[i] - t[i];
          double gi = 2 * diff * ((double) w[i] * w[i]);
          da[i] += (float) (gi * scale);
        }
      });
    }
    return out;
  }

  /**
   * Mean softmax cross-entropy over the batch: L = (1/N) Σ_n −log softmax(z_n)[label_n].
   * logits: (N, C). Backward: dz += (softmax(z) − onehot) / N.
   */
  public static Var crossEntropy(Graph g, Var logits, int[] labels) {
    int[] s = logits.shape();
    Check.arg(s.length == 2 && s[0] == labels.length,
        "crossEntropy: logits %s do not match %d labels", Arrays.toString(s), labels.length);
    int n = s[0];
    int c = s[1];
    float[] z = d(logits);
    float[] prob = new float[z.length];
    g.kernels().softmax(prob, z, n, c);
    double acc = 0;
    for (int i = 0; i < n; i++) {
      Check.arg(labels[i] >= 0 && labels[i] < c, "crossEntropy: label %d out of range 0..%d",
          labels[i], c - 1);
      acc += -StrictMath.log(Math.max(prob[i * c + labels[i]], Float.MIN_NORMAL));
    }
    Var out = result(g, Tensor.scalar((float) (acc / n)), logits);
    if (out.requiresGrad()) {
      g.record("crossEntropy", out, () -> {
        float dy = out.grad().data()[0] / n;
        float[] dz = logits.grad().data();
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < c; j++) {
            float onehot = j == labels[i] ? 1f : 0f;
            dz[i * c + j] += (prob[i * c + j] - onehot) * dy;
          }
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ batch normalisation
  /**
   * BatchNorm2d in training mode: per channel c, μ = mean over (N, H, W), σ² = biased variance,
   * x̂ = (x − μ)/sqrt(σ² + eps), y = γ·x̂ + β. Statistics are summed in double in index order.
   * The batch mean and the unbiased variance are written to {@code batchMean} / {@code batchVar}
   * (length C) for the caller's running averages.
   * Backward (per channel, m = N·H·W): dγ += Σ dy·x̂; dβ += Σ dy;
   * dx += γ/sqrt(σ²+eps) · (dy − mean(dy) − x̂·mean(dy·x̂)).
   */
  public static Var batchNorm2dTrain(Graph g, Var x, Var gamma, Var beta, float eps,
      float[] batchMean, float[] batchVar) {
    int[] s = x.shape();
    Check.arg(s.length == 4 && gamma.value().hasShape(s[1]) && beta.value().hasShape(s[1]),
        "batchNorm2d: x%s with gamma%s beta%s", Arrays.toString(s),
        Arrays.toString(gamma.shape()), Arrays.toString(beta.shape()));
    int n = s[0];
    int c = s[1];
    int hw = s[2] * s[3];
    int m = n * hw;
    Check.arg(m > 1, "batchNorm2d: training mode needs more than one value per channel, got %s",
        Arrays.toString(s));
    float[] xd = d(x);
    float[] gd = d(gamma);
    float[] bd = d(beta);
    Tensor y = Tensor.zeros(s);
    float[] yd = y.data();
    float[] xhat = new float[xd.length];
    float[] invStd = new float[c];
    for (int ch = 0; ch < c; ch++) {
      double sum = 0;
      for (int b = 0; b < n; b++) {
        int o = (b * c + ch) * hw;
        for (int i = 0; i < hw; i++) {
          sum += xd[o + i];
        }
      }
      double mean = sum / m;
      double sq = 0;
      for (int b = 0; b < n; b++) {
        int o = (b * c + ch) * hw;
        for (int i = 0; i < hw; i++) {
          double dv = xd[o + i] - mean;
          sq += dv * dv;
        }
      }
      double var = sq / m;
      float inv = (float) (1.0 / Math.sqrt(var + eps));
      invStd[ch] = inv;
      batchMean[ch] = (float) mean;
      batchVar[ch] = (float) (sq / (m - 1));
      for (int b = 0; b < n; b++) {
        int o = (b * c + ch) * hw;
        for (int i = 0; i < hw; i++) {
          float xh = (float) ((xd[o + i] - mean) * inv);
          xhat[o + i] = xh;
          yd[o + i] = gd[ch] * xh + bd[ch];
        }
      }
    }
    Var out = result(g, y, x, gamma, beta);
    if (out.requiresGrad()) {
      g.record("batchNorm2dTrain", out, () -> {
        float[] dy = out.grad().data();
        for (int ch = 0; ch < c; ch++) {
          double sdy = 0;
          double sdyx = 0;
          for (int b = 0; b < n; b++) {
            int o = (b * c + ch) * hw;
            for (int i = 0; i < hw; i++) {
              sdy += dy[o + i];
              sdyx += (double) dy[o + i] * xhat[o + i];
            }
          }
          if (gamma.requiresGrad()) {
            gamma.grad().data()[ch] += (float) sdyx;
          }
          if (beta.requiresGrad()) {
            beta.grad().data()[ch] += (float) sdy;
          }
          if (x.requiresGrad()) {
            float[] dx = x.grad().data();
            double k = gd[ch] * (double) invStd[ch];
            double mdy = sdy / m;
            double mdyx = sdyx / m;
            for (int b = 0; b < n; b++) {
              int o = (b * c + ch) * hw;
              for (int i = 0; i < hw; i++) {
                dx[o + i] += (float) (k * (dy[o + i] - mdy - xhat[o + i] * mdyx));
              }
            }
          }
        }
      });
    }
    return out;
  }

  /**
   * BatchNorm2d with fixed statistics (eval mode): y = (x − μ)·γ/sqrt(σ² + eps) + β per channel,
   * computed as y = x·a + c with a = γ/sqrt(σ²+eps), c = β − μ·a in double, rounded to float.
   * Backward: dx += dy·a; dγ, dβ not propagated (statistics frozen: use for evaluation only).
   */
  public static Var batchNorm2dEval(Graph g, Var x, Tensor gamma, Tensor beta, Tensor mean,
      Tensor var, float eps) {
    int[] s = x.shape();
    int n = s[0];
    int c = s[1];
    int hw = s[2] * s[3];
    float[] a = new float[c];
    float[] cc = new float[c];
    for (int ch = 0; ch < c; ch++) {
      double k = gamma.get(ch) / Math.sqrt((double) var.get(ch) + eps);
      a[ch] = (float) k;
      cc[ch] = (float) (beta.get(ch) - mean.get(ch) * k);
    }
    float[] xd = d(x);
    Tensor y = Tensor.zeros(s);
    float[] yd = y.data();
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int o = (b * c + ch) * hw;
        for (int i = 0; i < hw; i++) {
          yd[o + i] = Math.fma(xd[o + i], a[ch], cc[ch]);
        }
      }
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("batchNorm2dEval", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int b = 0; b < n; b++) {
          for (int ch = 0; ch < c; ch++) {
            int o = (b * c + ch) * hw;
            for (int i = 0; i < hw; i++) {
              dx[o + i] += dy[o + i] * a[ch];
            }
          }
        }
      });
    }
    return out;
  }

  /**
   * k×k average pooling, no padding (PyTorch's AvgPool2d(k, stride), ceil_mode off): each output
   * is the mean of its window, summed in row-major window order. x: (N, C, H, W);
   * y: (N, C, (H − k)/stride + 1, (W − k)/stride + 1). Backward: each input in a window receives
   * dy / k².
   */
  public static Var avgPool2d(Graph g, Var x, int k, int stride) {
    int[] s = x.shape();
    Check.arg(s.length == 4, "avgPool2d: expected (N,C,H,W), got %s", Arrays.toString(s));
    Check.arg(k > 0 && stride > 0 && k <= s[2] && k <= s[3],
        "avgPool2d: kernel %d / stride %d do not fit input %dx%d", k, stride, s[2], s[3]);
    int nc = s[0] * s[1];
    int h = s[2];
    int w = s[3];
    int ho = (h - k) / stride + 1;
    int wo = (w - k) / stride + 1;
    float[] xd = d(x);
    Tensor y = Tensor.zeros(s[0], s[1], ho, wo);
    float[] yd = y.data();
    float inv = 1f / (k * k);
    for (int c = 0; c < nc; c++) {
      for (int i = 0; i < ho; i++) {
        for (int j = 0; j < wo; j++) {
          float acc = 0f;
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              acc += xd[(c * h + i * stride + ky) * w + j * stride + kx];
            }
          }
          yd[(c * ho + i) * wo + j] = acc * inv;
        }
      }
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("avgPool2d", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int c = 0; c < nc; c++) {
          for (int i = 0; i < ho; i++) {
            for (int j = 0; j < wo; j++) {
              float gv = dy[(c * ho + i) * wo + j] * inv;
              for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                  dx[(c * h + i * stride + ky) * w + j * stride + kx] += gv;
                }
              }
            }
          }
        }
      });
    }
    return out;
  }

  /**
   * Mean KL divergence KL(p ‖ q) over the batch, with p = softmax(target logits) fixed and
   * q = softmax(logits): L = (1/N) Σ_n Σ_c p log(p / q) (PyTorch's
   * {@code kl_div(log_softmax(z), softmax(t), reduction='batchmean')}). Used as the task loss
   * between FP and quantized outputs. Backward: dz += (q − p) / N.
   */
  public static Var klDivergence(Graph g, Var logits, Tensor targetLogits) {
    int[] s = logits.shape();
    Check.arg(s.length == 2 && targetLogits.hasShape(s),
        "klDivergence: logits %s and target %s must both be (N, C)", Arrays.toString(s),
        Arrays.toString(targetLogits.shape()));
    int n = s[0];
    int c = s[1];
    float[] q = new float[n * c];
    float[] p = new float[n * c];
    g.kernels().softmax(q, d(logits), n, c);
    g.kernels().softmax(p, targetLogits.contiguous().data(), n, c);
    double acc = 0;
    for (int i = 0; i < n * c; i++) {
      if (p[i] > 0) {
        acc += p[i] * (StrictMath.log(p[i]) - StrictMath.log(Math.max(q[i], Float.MIN_NORMAL)));
      }
    }
    Var out = result(g, Tensor.scalar((float) (acc / n)), logits);
    if (out.requiresGrad()) {
      g.record("klDivergence", out, () -> {
        float dy = out.grad().data()[0] / n;
        float[] dz = logits.grad().data();
        for (int i = 0; i < n * c; i++) {
          dz[i] += (q[i] - p[i]) * dy;
        }
      });
    }
    return out;
  }

  // ------------------------------------------------------------------ transformer encoder
  /**
   * Embedding lookup: y[i] = table[ids[i]]. ids: n indices in 0..V-1; table: (V, H); y: (n, H).
   * Backward: dtable[ids[i]] += dy[i] for i in increasing order (so repeated ids accumulate in a
   * fixed order). An id outside the table is an error naming its position.
   */
  public static Var embedding(Graph g, int[] ids, Var table) {
    int[] ts = table.shape();
    Check.arg(ts.length == 2, "embedding: table must be (V, H), got %s", Arrays.toString(ts));
    int v = ts[0];
    int h = ts[1];
    float[] td = d(table);
    Tensor y = Tensor.zeros(ids.length, h);
    float[] yd = y.data();
    for (int i = 0; i < ids.length; i++) {
      int id = ids[i];
      Check.arg(id >= 0 && id < v, "embedding: id %d at position %d outside the table's %d rows",
          id, i, v);
      System.arraycopy(td, id * h, yd, i * h, h);
    }
    Var out = result(g, y, table);
    if (out.requiresGrad()) {
      g.record("embedding", out, () -> {
        float[] dy = out.grad().data();
        float[] dt = table.grad().data();
        for (int i = 0; i < ids.length; i++) {
          int o = ids[i] * h;
          for (int j = 0; j < h; j++) {
            dt[o + j] += dy[i * h + j];
          }
        }
      });
    }
    return out;
  }

  /**
   * LayerNorm over the last axis: y = (x − μ)/√(σ² + eps)·γ + β ({@link Kernels#layerNorm}).
   * x: (..., H); gamma, beta: (H). Backward ({@link Kernels#layerNormBackward}):
   * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ; dγ += Σ dy·x̂; dβ += Σ dy.
   */
  public static Var layerNorm(Graph g, Var x, Var gamma, Var beta, float eps) {
    int[] xs = x.shape();
    int h = xs[xs.length - 1];
    Check.arg(gamma.value().hasShape(h) && beta.value().hasShape(h),
        "layerNorm: x%s needs weight and bias of shape [%d], got %s and %s", Arrays.toString(xs),
        h, Arrays.toString(gamma.shape()), Arrays.toString(beta.shape()));
    int rows = x.value().numel() / h;
    float[] xd = d(x);
    float[] gd = d(gamma);
    Tensor y = Tensor.zeros(xs);
    float[] xhat = new float[xd.length];
    float[] rstd = new float[rows];
    g.kernels().layerNorm(y.data(), xhat, rstd, xd, gd, d(beta), rows, h, eps);
    Var out = result(g, y, x, gamma, beta);
    if (out.requiresGrad()) {
      g.record("layerNorm", out, () -> {
        float[] dx = x.requiresGrad() ? x.grad().data() : new float[xd.length];
        g.kernels().layerNormBackward(dx, gamma.requiresGrad() ? gamma.grad().data() : null,
            beta.requiresGrad() ? beta.grad().data() : null, out.grad().data(), xhat, rstd, gd,
            rows, h);
      });
    }
    return out;
  }

  /** y = GELU(x) = x·Φ(x), erf form. Backward: dx += dy·(Φ(x) + x·φ(x)). */
  public static Var gelu(Graph g, Var x) {
    float[] xd = d(x);
    Tensor y = Tensor.zeros(x.shape());
    g.kernels().gelu(y.data(), xd, xd.length);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("gelu", out, () -> g.kernels().geluBackward(x.grad().data(), out.grad().data(), xd,
          xd.length));
    }
    return out;
  }

  /** y = tanh(x). Backward: dx += dy·(1 − y²). */
  public static Var tanh(Graph g, Var x) {
    float[] xd = d(x);
    Tensor y = Tensor.zeros(x.shape());
    float[] yd = y.data();
    g.kernels().tanh(yd, xd, xd.length);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("tanh", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int i = 0; i < yd.length; i++) {
          dx[i] += dy[i] * (1f - yd[i] * yd[i]);
        }
      });
    }
    return out;
  }

  /** y = s·x for a constant s. Backward: dx += s·dy. */
  public static Var scale(Graph g, Var x, float s) {
    float[] xd = d(x);
    Tensor y = Tensor.zeros(x.shape());
    float[] yd = y.data();
    for (int i = 0; i < yd.length; i++) {
      yd[i] = xd[i] * s;
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("scale", out, () -> g.kernels().axpy(x.grad().data(), s, out.grad().data(),
          yd.length));
    }
    return out;
  }

  /**
   * Batched matrix product: y_t = a_t·b_t, or a_t·b_tᵀ when transB. a: (B, M, K); b: (B, K, N), or
   * (B, N, K) when transB; y: (B, M, N) ({@link Kernels#gemmBatched}). Backward: da += dy·bᵀ (or
   * dy·b), db += aᵀ·dy (or dyᵀ·a).
   */
  public static Var bmm(Graph g, Var a, Var b, boolean transB) {
    int[] as = a.shape();
    int[] bs = b.shape();
    Check.arg(as.length == 3 && bs.length == 3 && as[0] == bs[0]
            && as[2] == (transB ? bs[2] : bs[1]),
        "bmm: a%s and b%s do not multiply%s", Arrays.toString(as), Arrays.toString(bs),
        transB ? " (b transposed)" : "");
    int batch = as[0];
    int m = as[1];
    int k = as[2];
    int n = transB ? bs[1] : bs[2];
    float[] ad = d(a);
    float[] bd = d(b);
    Tensor y = Tensor.zeros(batch, m, n);
    g.kernels().gemmBatched(y.data(), ad, false, bd, transB, batch, m, k, n, false);
    Var out = result(g, y, a, b);
    if (out.requiresGrad()) {
      g.record("bmm", out, () -> {
        float[] dy = out.grad().data();
        if (a.requiresGrad()) {
          // da (M×K) += dy (M×N) · op(b)ᵀ
          g.kernels().gemmBatched(a.grad().data(), dy, false, bd, !transB, batch, m, n, k, true);
        }
        if (b.requiresGrad()) {
          if (transB) {
            // db (N×K) += dyᵀ (N×M) · a (M×K)
            g.kernels().gemmBatched(b.grad().data(), dy, true, ad, false, batch, n, m, k, true);
          } else {
            // db (K×N) += aᵀ (K×M) · dy (M×N)
            g.kernels().gemmBatched(b.grad().data(), ad, true, dy, false, batch, k, m, n, true);
          }
        }
      });
    }
    return out;
  }

  /**
   * Softmax over the last axis of x (R, C) restricted to the columns that {@code keyMask} keeps:
   * row r uses mask row r / rowsPerMask (keyMask has R / rowsPerMask rows of C); masked columns
   * get probability exactly 0 ({@link Kernels#maskedSoftmax}). Backward: dx += p·(dy − Σ p·dy).
   * For attention scores (B, heads, L, L): rowsPerMask = heads·L, keyMask (B, L).
   */
  public static Var maskedSoftmax(Graph g, Var x, int[] keyMask, int rowsPerMask) {
    int[] xs = x.shape();
    int c = xs[xs.length - 1];
    int rows = x.value().numel() / c;
    Tensor y = Tensor.zeros(xs);
    float[] yd = y.data();
    g.kernels().maskedSoftmax(yd, d(x), keyMask, rows, c, rowsPerMask);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("maskedSoftmax", out, () -> g.kernels().softmaxBackward(x.grad().data(),
          out.grad().data(), yd, rows, c));
    }
    return out;
  }

  /**
   * Splits the hidden axis into attention heads: x (B, L, heads·D) → y (B·heads, L, D) with
   * y[b·heads + h][l][e] = x[b][l][h·D + e]. Backward: the inverse copy, accumulated.
   */
  public static Var splitHeads(Graph g, Var x, int heads) {
    int[] s = x.shape();
    Check.arg(s.length == 3 && s[2] % heads == 0, "splitHeads: x%s does not split into %d heads",
        Arrays.toString(s), heads);
    int b = s[0];
    int l = s[1];
    int dh = s[2] / heads;
    float[] xd = d(x);
    Tensor y = Tensor.zeros(b * heads, l, dh);
    headCopy(y.data(), xd, b, l, heads, dh, true, false);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("splitHeads", out, () -> headCopy(out.grad().data(), x.grad().data(), b, l, heads,
          dh, false, true));
    }
    return out;
  }

  /** The inverse of {@link #splitHeads}: x (B·heads, L, D) → y (B, L, heads·D). */
  public static Var mergeHeads(Graph g, Var x, int heads) {
    int[] s = x.shape();
    Check.arg(s.length == 3 && s[0] % heads == 0, "mergeHeads: x%s does not hold %d heads",
        Arrays.toString(s), heads);
    int b = s[0] / heads;
    int l = s[1];
    int dh = s[2];
    float[] xd = d(x);
    Tensor y = Tensor.zeros(b, l, heads * dh);
    headCopy(xd, y.data(), b, l, heads, dh, false, false);
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("mergeHeads", out, () -> headCopy(x.grad().data(), out.grad().data(), b, l, heads,
          dh, true, true));
    }
    return out;
  }

  /**
   * Copies between split (B·heads, L, D) and merged (B, L, heads·D) layouts; toSplit gives the
   * direction, accumulate adds instead of assigning.
   */
  private static void headCopy(float[] split, float[] merged, int b, int l, int heads, int dh,
      boolean toSplit, boolean accumulate) {
    for (int n = 0; n < b; n++) {
      for (int h = 0; h < heads; h++) {
        for (int t = 0; t < l; t++) {
          int so = ((n * heads + h) * l + t) * dh;
          int mo = (n * l + t) * heads * dh + h * dh;
          for (int e = 0; e < dh; e++) {
            if (toSplit) {
              split[so + e] = accumulate ? split[so + e] + merged[mo + e] : merged[mo + e];
            } else {
              merged[mo + e] = accumulate ? merged[mo + e] + split[so + e] : split[so + e];
            }
          }
        }
      }
    }
  }

  /**
   * Selects one position of a sequence: x (B, L, H) → y (B, H) = x[:, position, :] (BERT's
   * pooler reads position 0, [CLS]). Backward: dx[:, position, :] += dy.
   */
  public static Var selectPosition(Graph g, Var x, int position) {
    int[] s = x.shape();
    Check.arg(s.length == 3 && position >= 0 && position < s[1],
        "selectPosition: position %d outside x%s", position, Arrays.toString(s));
    int b = s[0];
    int l = s[1];
    int h = s[2];
    float[] xd = d(x);
    Tensor y = Tensor.zeros(b, h);
    for (int n = 0; n < b; n++) {
      System.arraycopy(xd, (n * l + position) * h, y.data(), n * h, h);
    }
    Var out = result(g, y, x);
    if (out.requiresGrad()) {
      g.record("selectPosition", out, () -> {
        float[] dy = out.grad().data();
        float[] dx = x.grad().data();
        for (int n = 0; n < b; n++) {
          for (int j = 0; j < h; j++) {
            dx[(n * l + position) * h + j] += dy[n * h + j];
          }
        }
      });
    }
    return out;
  }
}
