package org.qlimit.quant;

import org.qlimit.kernel.RoundedPow;
import org.qlimit.util.Check;
import org.qlimit.util.Parallel;

/**
 * AdaRound: learned up/down rounding of weights (Nagel et al., ICML 2020; ALGORITHMS.md §3), as
 * used by BRECQ (quant/adaptive_rounding.py, quant/block_recon.py) and QDrop
 * (qdrop/quantization/fake_quant.py {@code AdaRoundFakeQuantize}, qdrop/solver/recon.py).
 *
 * <p>Shapes: {@code w}, {@code alpha}, outputs hold {@code p.channels() · channelSize} elements,
 * (channels, channelSize) row-major, channel on axis 0.
 *
 * <p>Float arithmetic follows the references' float32 order; σ is evaluated as
 * {@code 1/(1 + StrictMath.exp(−α))} in double and rounded to float:
 *
 * <pre>
 *   σ = (float) σ(α);  h = clamp(σ·(ζ − γ) + γ, 0, 1)        with (ζ − γ) = 1.2f, γ = −0.1f
 *   Ŵ = (clamp(⌊w/s⌋ + h + z, qmin, qmax) − z) · s          (⌊w/s⌋ + h first, then + z)
 * </pre>
 *
 * <p>Gradient (torch.clamp passes gradient where its input lies in [lo, hi], bounds included):
 *
 * <pre>
 *   ∂Ŵ/∂α = s · [qmin ≤ ⌊w/s⌋ + h + z ≤ qmax] · (ζ − γ)·σ(1 − σ) · [0 ≤ σ·(ζ−γ)+γ ≤ 1]
 * </pre>
 *
 * so no gradient flows where either clamp is active. Gradients are formed in double and rounded
 * once when accumulated.
 */
public final class AdaRound {
  private AdaRound() {}

  /** Stretch upper end ζ of the rectified sigmoid. */
  public static final double ZETA = 1.1;

  /** Stretch lower end γ of the rectified sigmoid. */
  public static final double GAMMA = -0.1;

  /** Default regulariser weight λ (ALGORITHMS.md §3). */
  public static final double DEFAULT_LAMBDA = 0.01;

  /** Default warm-up fraction, start and end β of the regulariser schedule. */
  public static final double DEFAULT_WARMUP = 0.2;

  public static final double DEFAULT_BETA_START = 20;
  public static final double DEFAULT_BETA_END = 2;

  /** ζ − γ as torch forms it: Python double 1.1 − (−0.1), then float32. */
  private static final float ZG = (float) (ZETA - GAMMA);

  private static final float G = (float) GAMMA;

  /** σ(α) = 1/(1 + e^(−α)) with StrictMath.exp, in double. */
  static double sigmoid(double a) {
    return 1.0 / (1.0 + StrictMath.exp(-a));
  }

  /** Rectified sigmoid before its clamp: σ(α)·(ζ − γ) + γ in float32. */
  static float hPre(float alpha) {
    float sig = (float) sigmoid(alpha);
    return sig * ZG + G;
  }

  /** h(α) = clamp(σ(α)·(ζ − γ) + γ, 0, 1) (AdaRound eq. 23; ALGORITHMS.md §3). */
  public static float h(float alpha) {
    return Math.min(Math.max(hPre(alpha), 0f), 1f);
  }

  /**
   * dh/dα = (ζ − γ)·σ(α)(1 − σ(α)) where 0 ≤ σ(α)·(ζ − γ) + γ ≤ 1, else 0; σ as the float32 value
   * the forward uses (torch's sigmoid backward uses the saved output).
   */
  public static double dh(float alpha) {
    float pre = hPre(alpha);
    if (!(pre >= 0f && pre <= 1f)) {
      return 0.0;
    }
    double sig = (float) sigmoid(alpha);
    return ZG * sig * (1.0 - sig);
  }

  /**
   * Initial α with h(α) = r, r = w/s − ⌊w/s⌋ ∈ [0, 1): α = −ln((ζ − γ)/(r − γ) − 1)
   * (ALGORITHMS.md §3; BRECQ adaptive_rounding.py l.64–69; QDrop fake_quant.py l.268–272).
   * r and the ratio are float32 as in torch; the logarithm is StrictMath.log in double.
   *
   * @param alpha output. Modified.
   * @param w weights. Not modified.
   */
  public static void initAlpha(float[] alpha, float[] w, QParams p, int channelSize) {
    int n = checkSizes("initAlpha", w, p, channelSize);
    Check.length("initAlpha", "alpha", alpha, n);
    Check.noAlias("initAlpha", alpha, w, "w");
    for (int c = 0; c < p.channels(); c++) {
      float s = p.scale(c);
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        float v = w[i] / s;
        float r = v - (float) Math.floor(v);
        float ratio = ZG / (r - G) - 1f;
        alpha[i] = (float) -StrictMath.log(ratio);
      }
    }
  }

  /**
   * Soft-quantized weights Ŵ = s·(clamp(⌊w/s⌋ + h(α) + z, qmin, qmax) − z) (ALGORITHMS.md §3).
   * {@code out} may alias neither input.
   *
   * @param out output. Modified.
   * @param w weights. Not modified.
   * @param alpha rounding variables. Not modified.
   */
  public static void softWeight(float[] out, float[] w, float[] alpha, QParams p, int channelSize) {
    int n = checkSizes("softWeight", w, p, channelSize);
    checkIo("softWeight", out, alpha, w, n);
    for (int c = 0; c < p.channels(); c++) {
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        out[i] = weight1(w[i], h(alpha[i]), p, c);
      }
    }
  }

  /**
   * Hard-rounded weights: h replaced by [α ≥ 0] (BRECQ adaptive_rounding.py l.51; QDrop
   * fake_quant.py l.292). This is the final quantized weight after reconstruction.
   *
   * @param out output. Modified.
   * @param w weights. Not modified.
   * @param alpha rounding variables. Not modified.
   */
  public static void hardWeight(float[] out, float[] w, float[] alpha, QParams p, int channelSize) {
    int n = checkSizes("hardWeight", w, p, channelSize);
    checkIo("hardWeight", out, alpha, w, n);
    for (int c = 0; c < p.channels(); c++) {
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        out[i] = weight1(w[i], alpha[i] >= 0f ? 1f : 0f, p, c);
      }
    }
  }

  private static float weight1(float w, float h, QParams p, int c) {
    float s = p.scale(c);
    float z = p.zeroPoint(c);
    float u = (float) Math.floor(w / s) + h + z;
    float q = Math.min(Math.max(u, p.scheme().qmin()), p.scheme().qmax());
    return (q - z) * s;
  }

  /**
   * Backward of {@link #softWeight} w.r.t. α; accumulates:
   * {@code dAlpha[i] += (float)(dW[i] · s · [qmin ≤ ⌊w/s⌋ + h + z ≤ qmax] · dh/dα)}.
   * No gradient w.r.t. w (⌊·⌋ has zero derivative) or s (fixed for weights).
   *
   * @param dAlpha gradient w.r.t. α. Modified (accumulated).
   * @param dW upstream gradient w.r.t. Ŵ. Not modified.
   * @param w weights. Not modified.
   * @param alpha rounding variables. Not modified.
   */
  public static void softWeightBackward(
      float[] dAlpha, float[] dW, float[] w, float[] alpha, QParams p, int channelSize) {
    int n = checkSizes("softWeightBackward", w, p, channelSize);
    checkIo("softWeightBackward", dAlpha, alpha, w, n);
    Check.length("softWeightBackward", "dW", dW, n);
    Check.noAlias("softWeightBackward", dAlpha, dW, "dW");
    int qmin = p.scheme().qmin();
    int qmax = p.scheme().qmax();
    for (int c = 0; c < p.channels(); c++) {
      float s = p.scale(c);
      float z = p.zeroPoint(c);
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        float u = (float) Math.floor(w[i] / s) + h(alpha[i]) + z;
        if (u >= qmin && u <= qmax) {
          dAlpha[i] += (float) ((double) dW[i] * s * dh(alpha[i]));
        }
      }
    }
  }

  /**
   * Rounding regulariser f_reg = λ Σ_i (1 − |2h(α_i) − 1|^β) over alpha[0, n) (AdaRound eq. 24;
   * ALGORITHMS.md §3; BRECQ block_recon.py l.168 writes |h − 0.5|·2). Terms in double with
   * StrictMath.pow, summed in index order.
   *
   * @param alpha rounding variables. Not modified.
   */
  public static double regularizer(float[] alpha, int n, double lambda, double beta) {
    Check.length("regularizer", "alpha", alpha, n);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
      double a = Math.abs(2.0 * h(alpha[i]) - 1.0);
      sum += 1.0 - StrictMath.pow(a, beta);
    }
    return lambda * sum;
  }

  /**
   * Gradient of {@link #regularizer} scaled by {@code gradOut}; accumulates:
   *
   * <pre>
   *   dAlpha[i] += (float)(gradOut · λ · (−β |2h − 1|^(β−1) · sign(2h − 1) · 2) · dh/dα)
   * </pre>
   *
   * sign(0) = 0 (torch's abs backward), so elements with h = ½ get no gradient; elements where
   * the rectification clamps (h ∈ {0, 1} strictly outside) get none either.
   *
   * @param dAlpha gradient. Modified (accumulated).
   * @param alpha rounding variables. Not modified.
   */
  public static void regularizerBackward(
      float[] dAlpha, float[] alpha, int n, double lambda, double beta, double gradOut) {
    Check.length("regularizerBackward", "alpha", alpha, n);
    Check.length("regularizerBackward", "dAlpha", dAlpha, n);
    Check.noAlias("regularizerBackward", dAlpha, alpha, "alpha");
    for (int i = 0; i < n; i++) {
      double dhi = dh(alpha[i]);
      if (dhi == 0.0) {
        continue;
      }
      double t = 2.0 * h(alpha[i]) - 1.0;
      double a = Math.abs(t);
      double dReg = -beta * StrictMath.pow(a, beta - 1.0) * Math.signum(t) * 2.0;
      dAlpha[i] += (float) (gradOut * lambda * dReg * dhi);
    }
  }

  // ---------------------------------------------------------------- precomputed h (fast path)
  //
  // The methods below take h(α) and dh/dα as arrays computed once per iteration by
  // rectify(), instead of evaluating the sigmoid per element in every pass. Each element is the
  // same float/double expression as in the methods above, so the results are bit-identical to
  // them (AdaRoundTest holds them to it); sums still run in index order on one thread.

  /** Below this many elements the fast path runs on the caller's thread only. */
  private static final int PARALLEL_MIN = 1 << 13;

  private static int threadsFor(int threads, int n) {
    return n >= PARALLEL_MIN ? threads : 1;
  }

  /**
   * h[i] = {@link #h}(α_i) and dh[i] = {@link #dh}(α_i) for i in [0, n), one sigmoid per element.
   * Elementwise, split across {@code threads}.
   *
   * @param h output. Modified.
   * @param dh output. Modified.
   * @param alpha rounding variables. Not modified.
   */
  public static void rectify(float[] h, double[] dh, float[] alpha, int n, int threads) {
    Check.length("rectify", "alpha", alpha, n);
    Check.length("rectify", "h", h, n);
    if (dh == null || dh.length < n) {
      throw new IllegalArgumentException("rectify: dh needs " + n + " elements");
    }
    Parallel.forRange(threadsFor(threads, n), n, (from, to) -> {
      for (int i = from; i < to; i++) {
        float sig = (float) sigmoid(alpha[i]);
        float pre = sig * ZG + G;
        h[i] = Math.min(Math.max(pre, 0f), 1f);
        if (pre >= 0f && pre <= 1f) {
          double sd = sig;
          dh[i] = ZG * sd * (1.0 - sd);
        } else {
          dh[i] = 0.0;
        }
      }
    });
  }

  /** {@link #softWeight} with h precomputed by {@link #rectify}. */
  public static void softWeightH(float[] out, float[] w, float[] h, QParams p, int channelSize) {
    int n = checkSizes("softWeightH", w, p, channelSize);
    checkIo("softWeightH", out, h, w, n);
    for (int c = 0; c < p.channels(); c++) {
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        out[i] = weight1(w[i], h[i], p, c);
      }
    }
  }

  /** {@link #softWeightBackward} with h and dh precomputed by {@link #rectify}. */
  public static void softWeightBackwardH(
      float[] dAlpha, float[] dW, float[] w, float[] h, double[] dh, QParams p, int channelSize) {
    int n = checkSizes("softWeightBackwardH", w, p, channelSize);
    checkIo("softWeightBackwardH", dAlpha, h, w, n);
    Check.length("softWeightBackwardH", "dW", dW, n);
    Check.noAlias("softWeightBackwardH", dAlpha, dW, "dW");
    int qmin = p.scheme().qmin();
    int qmax = p.scheme().qmax();
    for (int c = 0; c < p.channels(); c++) {
      float s = p.scale(c);
      float z = p.zeroPoint(c);
      for (int i = c * channelSize; i < (c + 1) * channelSize; i++) {
        float u = (float) Math.floor(w[i] / s) + h[i] + z;
        if (u >= qmin && u <= qmax) {
          dAlpha[i] += (float) ((double) dW[i] * s * dh[i]);
        }
      }
    }
  }

  /**
   * {@link #regularizer} with h precomputed. The terms 1 − |2h − 1|^β are computed elementwise
   * (split across threads) into {@code terms}, then summed in index order on the caller's thread.
   * |2h − 1| ∈ {0, 1} skips the pow: StrictMath.pow(1, β) = 1 and pow(0, β) = 0 for β &gt; 0 by
   * its specification.
   *
   * @param terms scratch, at least n elements. Modified.
   */
  public static double regularizerH(
      float[] h, int n, double lambda, double beta, double[] terms, int threads) {
    Check.length("regularizerH", "h", h, n);
    Check.arg(terms != null && terms.length >= n, "regularizerH: terms needs %d elements", n);
    Check.arg(beta > 0, "regularizerH: beta %s must be positive", beta);
    Parallel.forRange(threadsFor(threads, n), n, (from, to) -> {
      for (int i = from; i < to; i++) {
        double a = Math.abs(2.0 * h[i] - 1.0);
        terms[i] = 1.0 - (a == 1.0 ? 1.0 : a == 0.0 ? 0.0 : StrictMath.pow(a, beta));
      }
    });
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
      sum += terms[i];
    }
    return lambda * sum;
  }

  /**
   * {@link #regularizerBackward} with h and dh precomputed; elementwise, split across threads.
   * Each element has the bits of the StrictMath.pow expression; {@link RoundedPow#regularizerGrad}
   * evaluates it.
   */
  public static void regularizerBackwardH(float[] dAlpha, float[] h, double[] dh, int n,
      double lambda, double beta, double gradOut, int threads) {
    Check.length("regularizerBackwardH", "h", h, n);
    Check.length("regularizerBackwardH", "dAlpha", dAlpha, n);
    Check.arg(dh != null && dh.length >= n, "regularizerBackwardH: dh needs %d elements", n);
    Check.noAlias("regularizerBackwardH", dAlpha, h, "h");
    Parallel.forRange(threadsFor(threads, n), n, (from, to) ->
        RoundedPow.regularizerGrad(dAlpha, h, dh, from, to, lambda, beta, gradOut));
  }

  /**
   * Whether the regulariser is on at iteration t (counted from 1): {@code !(t < warmup·T)}.
   * Both references zero the rounding loss while {@code count < iters * warm_up} with the count
   * incremented before use (BRECQ block_recon.py l.129, l.147, l.161; QDrop recon.py l.74, l.91,
   * l.95), so t = warmup·T is the first iteration with the regulariser.
   */
  public static boolean regularizerActive(long t, long iters, double warmup) {
    Check.arg(t >= 1 && iters >= 1, "regularizerActive: t=%d, T=%d", t, iters);
    return !(t < iters * warmup);
  }

  /**
   * β schedule (ALGORITHMS.md §3; BRECQ {@code LinearTempDecay}, block_recon.py l.179–196, with
   * {@code rel_start_decay = warmup}; QDrop recon.py l.42–56), in double:
   *
   * <pre>
   *   t0 = warmup·T;  β(t) = start                                       for t &lt; t0
   *                   β(t) = end + (start − end)·max(0, 1 − (t − t0)/(T − t0))   otherwise
   * </pre>
   *
   * t counted from 1. β(t0) = start, β(T) = end; t &gt; T gives end.
   */
  public static double beta(long t, long iters, double warmup, double start, double end) {
    Check.arg(t >= 1 && iters >= 1, "beta: t=%d, T=%d", t, iters);
    Check.arg(warmup >= 0 && warmup < 1, "beta: warmup %s outside [0, 1)", warmup);
    double t0 = warmup * iters;
    if (t < t0) {
      return start;
    }
    double rel = (t - t0) / (iters - t0);
    return end + (start - end) * Math.max(0.0, 1.0 - rel);
  }

  /** {@link #beta(long, long, double, double, double)} with warmup 0.2, start 20, end 2. */
  public static double beta(long t, long iters) {
    return beta(t, iters, DEFAULT_WARMUP);
  }

  /**
   * {@link #beta(long, long, double, double, double)} with start 20 and end 2; the same warm-up
   * as {@link #regularizerActive}, as both references use one {@code warm_up} for the two.
   */
  public static double beta(long t, long iters, double warmup) {
    return beta(t, iters, warmup, DEFAULT_BETA_START, DEFAULT_BETA_END);
  }

  private static void checkIo(String op, float[] out, float[] alpha, float[] w, int n) {
    Check.length(op, "out", out, n);
    Check.length(op, "alpha", alpha, n);
    Check.noAlias(op, out, w, "w");
    Check.noAlias(op, out, alpha, "alpha");
  }

  private static int checkSizes(String op, float[] w, QParams p, int channelSize) {
    Check.arg(p != null, "%s: QParams is null", op);
    if (channelSize < 0) {
      throw new IllegalArgumentException(op + ": channelSize must be >= 0, got " + channelSize);
    }
    long n = (long) p.channels() * channelSize;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(op + ": " + n + " elements is too many");
    }
    Check.length(op, "w", w, n);
    return (int) n;
  }
}
