package org.qlimit.quant;

import org.qlimit.util.Check;

/**
 * Uniform affine fake quantization and its straight-through / LSQ gradients (ALGORITHMS.md §1,
 * §4.1 step 2, §4.2).
 *
 * <p>Shapes: {@code x}, {@code y}, {@code dx}, {@code dy} hold {@code n = p.channels() ·
 * channelSize} elements viewed as (channels, channelSize), row-major; element {@code i} uses
 * channel {@code c = i / channelSize}. Per-tensor: one channel, {@code channelSize = numel}.
 *
 * <p>Float arithmetic (matches PyTorch float32, {@code fake_quantize_per_tensor_affine} in QDrop
 * util_quant.py l.11–15 and BRECQ quant_layer.py l.71–73):
 *
 * <pre>
 *   v = x / s            (one float division, as torch.round(x / scale) in float32)
 *   u = ⌊v⌉ + z          (round half to even, Math.rint; exact)
 *   q = clamp(u, qmin, qmax)
 *   x̂ = (q − z) · s      (exact subtraction, one float rounding)
 * </pre>
 *
 * The reference's {@code round_ste(v) = (round(v) − v).detach() + v} equals {@code round(v)}
 * exactly in float32 (both operations are exact by Sterbenz's lemma), so no correction is needed.
 *
 * <p>Gradients (straight-through estimator for ⌊·⌉; LSQ, Esser et al., ICLR 2020; PyTorch's
 * clamp passes gradient where {@code qmin ≤ u ≤ qmax}, bounds included):
 *
 * <pre>
 *   inside  (qmin ≤ u ≤ qmax):  ∂x̂/∂x = 1,  ∂x̂/∂s = (q − z) − x/s
 *   below   (u &lt; qmin):        ∂x̂/∂x = 0,  ∂x̂/∂s = qmin − z
 *   above   (u &gt; qmax):        ∂x̂/∂x = 0,  ∂x̂/∂s = qmax − z
 * </pre>
 *
 * The zero point is not learned: both references keep it fixed after calibration (BRECQ
 * quant_layer.py l.63–65, the {@code nn.Parameter(zero_point)} line is commented out; QDrop's
 * {@code LSQFakeQuantize} holds it in a buffer, fake_quant.py l.149). QDrop multiplies the scale
 * gradient by g = 1/√(numel · qmax) ({@link #lsqGradScale}); BRECQ uses g = 1.
 */
public final class FakeQuant {
  private FakeQuant() {}

  /**
   * Integer levels q = clamp(⌊x/s⌉ + z, qmin, qmax), stored as ints.
   *
   * @param q output, n elements. Modified.
   * @param x input, n elements. Not modified.
   */
  public static void quantize(int[] q, float[] x, QParams p, int channelSize) {
    int n = checkSizes("quantize", x, p, channelSize);
    Check.arg(q != null && q.length >= n, "quantize: q needs %d elements", n);
    for (int c = 0; c < p.channels(); c++) {
      float s = p.scale(c);
      float z = p.zeroPoint(c);
      int off = c * channelSize;
      for (int i = off; i < off + channelSize; i++) {
        q[i] = (int) level(x[i], s, z, p.scheme().qmin(), p.scheme().qmax());
      }
    }
  }

  /**
   * Integer levels as floats, q = clamp(⌊x/s⌉ + z, qmin, qmax). {@code q} may alias {@code x}.
   *
   * @param q output, n elements. Modified.
   * @param x input, n elements. Not modified (unless aliased by q).
   */
  public static void quantize(float[] q, float[] x, QParams p, int channelSize) {
    int n = checkSizes("quantize", x, p, channelSize);
    Check.length("quantize", "q", q, n);
    for (int c = 0; c < p.channels(); c++) {
      float s = p.scale(c);
      float z = p.zeroPoint(c);
      int off = c * channelSize;
      for (int i = off; i < off + channelSize; i++) {
        q[i] = level(x[i], s, z, p.scheme().qmin(), p.scheme().qmax());
      }
    }
  }

  /**
   * Fake quantization y = (clamp(⌊x/s⌉ + z, qmin, qmax) − z) · s. {@code y} may alias {@code x}
   * (elementwise).
   *
   * @param y output, n elements. Modified.
   * @param x input, n elements. Not modified (unless aliased by y).
   */
  public static void fakeQuant(float[] y, float[] x, QParams p, int channelSize) {
    int n = checkSizes("fakeQuant", x, p, channelSize);
    Check.length("fakeQuant", "y", y, n);
    for (int c = 0; c < p.channels(); c++) {
      int off = c * channelSize;
      fakeQuantRange(y, x, p.scale(c), p.zeroPoint(c), p.scheme().qmin(), p.scheme().qmax(), off,
          off + channelSize);
    }
  }

  /**
   * {@link #fakeQuant} of one channel (step s, zero point z) over the flat range [from, to):
   * y[i] = (clamp(⌊x_i/s⌉ + z, qmin, qmax) − z) · s. Elementwise, so disjoint ranges may run on
   * any threads with the same result. {@code y} may alias {@code x}. (Activation quantizers run
   * the fused {@code Kernels#fakeQuantDrop}, which reproduces these values.)
   *
   * @param y output, at least {@code to} elements. Modified in [from, to).
   * @param x input, at least {@code to} elements. Not modified (unless aliased by y).
   */
  public static void fakeQuantRange(float[] y, float[] x, float s, float z, int qmin, int qmax,
      int from, int to) {
    for (int i = from; i < to; i++) {
      y[i] = fakeQuant1(x[i], s, z, qmin, qmax);
    }
  }

  /** One element: clamp(⌊x/s⌉ + z, qmin, qmax) in float32. */
  static float level(float x, float s, float z, int qmin, int qmax) {
    float u = (float) Math.rint(x / s) + z;
    return Math.min(Math.max(u, qmin), qmax);
  }

  /** One element: (clamp(⌊x/s⌉ + z, qmin, qmax) − z) · s in float32. */
  static float fakeQuant1(float x, float s, float z, int qmin, int qmax) {
    return (level(x, s, z, qmin, qmax) - z) * s;
  }

  /**
   * Per-element LSQ derivative ∂x̂/∂s (Esser et al., ICLR 2020, eq. 3, with a zero point):
   * {@code (q − z) − x/s} where the clamp is inactive, {@code qmin − z} below, {@code qmax − z}
   * above. x/s is evaluated in double here (the reference differentiates in float32).
   */
  static double dScale1(float x, float s, float z, int qmin, int qmax) {
    float u = (float) Math.rint(x / s) + z;
    if (u < qmin) {
      return (double) qmin - z;
    }
    if (u > qmax) {
      return (double) qmax - z;
    }
    return ((double) u - z) - (double) x / (double) s;
  }

  /**
   * Backward of {@link #fakeQuant}; accumulates (zeroing is the caller's step).
   *
   * <pre>
   *   dx[i]       += dy[i] · [qmin ≤ ⌊x_i/s⌉ + z ≤ qmax]                       (STE)
   *   dScale[c]   += (float) (g · Σ_{i ∈ c} dy[i] · ∂x̂_i/∂s)                 (LSQ)
   * </pre>
   *
   * The channel sum runs over i in increasing index order in double, is multiplied by g in
   * double, rounded once to float and added to {@code dScaleAccum[c]}. It is therefore
   * independent of threads and vector width. The reference's ∂x̂/∂x is {@code (dy·s)/s}, which
   * can differ from dy by one float rounding; we pass dy unchanged.
   *
   * @param dx gradient w.r.t. x, n elements, or null when not needed. Modified (accumulated).
   * @param dScaleAccum gradient w.r.t. the scales, p.channels() elements, or null. Modified
   *     (accumulated).
   * @param dy upstream gradient, n elements. Not modified.
   * @param x forward input, n elements. Not modified.
   * @param gradScale LSQ gradient scale g: 1 for BRECQ, {@link #lsqGradScale} for QDrop.
   */
  public static void backward(
      float[] dx, float[] dScaleAccum, float[] dy, float[] x, QParams p, int channelSize,
      float gradScale) {
    int n = checkSizes("backward", x, p, channelSize);
    Check.length("backward", "dy", dy, n);
    if (dx != null) {
      Check.length("backward", "dx", dx, n);
      Check.noAlias("backward", dx, x, "x");
      Check.noAlias("backward", dx, dy, "dy");
    }
    if (dScaleAccum != null) {
      Check.length("backward", "dScaleAccum", dScaleAccum, p.channels());
    }
    double[] terms = dScaleAccum == null ? null : new double[n];
    for (int c = 0; c < p.channels(); c++) {
      int off = c * channelSize;
      backwardRange(dx, terms, dy, x, p.scale(c), p.zeroPoint(c), p.scheme().qmin(),
          p.scheme().qmax(), off, off + channelSize);
      if (dScaleAccum != null) {
        dScaleAccum[c] += scaleGrad(terms, off, off + channelSize, gradScale);
      }
    }
  }

  /**
   * {@link #backward} of one channel (step s, zero point z) over the flat range [from, to), with
   * the step's per-element terms written out instead of summed:
   *
   * <pre>
   *   dx[i]    += dy[i] · [qmin ≤ ⌊x_i/s⌉ + z ≤ qmax]     (STE)
   *   terms[i]  = dy[i] · ∂x̂_i/∂s                        (LSQ, in double)
   * </pre>
   *
   * Elementwise, so disjoint ranges may run on any threads with the same result; the step's
   * gradient is then {@link #scaleGrad} of the terms, one sum in index order. This is the
   * definition that activation quantizers ({@link ActQuantizer}) reproduce with the fused
   * {@code Kernels#fakeQuantDropBackward}.
   *
   * @param dx gradient w.r.t. x, or null when not needed. Modified (accumulated) in [from, to).
   * @param terms the LSQ terms, or null when not needed. Modified (overwritten) in [from, to).
   * @param dy upstream gradient. Not modified.
   * @param x forward input. Not modified.
   */
  public static void backwardRange(float[] dx, double[] terms, float[] dy, float[] x, float s,
      float z, int qmin, int qmax, int from, int to) {
    for (int i = from; i < to; i++) {
      if (dx != null) {
        float u = (float) Math.rint(x[i] / s) + z;
        if (u >= qmin && u <= qmax) {
          dx[i] += dy[i];
        }
      }
      if (terms != null) {
        terms[i] = (double) dy[i] * dScale1(x[i], s, z, qmin, qmax);
      }
    }
  }

  /**
   * The step's gradient from the terms of {@link #backwardRange}: (float) (g · Σ terms[i]), the
   * sum over i in [from, to) in increasing order in double, multiplied by g in double and rounded
   * once to float. Independent of threads and vector width.
   */
  public static float scaleGrad(double[] terms, int from, int to, float gradScale) {
    double acc = 0.0;
    for (int i = from; i < to; i++) {
      acc += terms[i];
    }
    return (float) (gradScale * acc);
  }

  /**
   * QDrop's LSQ gradient scale g = 1 / √(numel · qmax) (QDrop fake_quant.py l.174, l.182;
   * ALGORITHMS.md §4.2). Per tensor pass numel(x); per channel pass numel(x)/channels (QDrop
   * divides by {@code X.shape[ch_axis]}). Evaluated in double, as Python does, then rounded to float.
   */
  public static float lsqGradScale(long elementsPerScale, int qmax) {
    Check.arg(elementsPerScale > 0 && qmax > 0, "lsqGradScale: need positive sizes");
    return (float) (1.0 / Math.sqrt((double) elementsPerScale * qmax));
  }

  /**
   * QDrop keeps a learned scale positive before every forward: s ← max(|s|, FLT_EPSILON)
   * (fake_quant.py l.166–167, {@code eps = torch.finfo(float32).eps}). BRECQ does not. Returns the
   * sanitized value for one scale.
   */
  public static float sanitizeLearnedScale(float s) {
    return Math.max(Math.abs(s), Math.ulp(1.0f));
  }

  private static int checkSizes(String op, float[] x, QParams p, int channelSize) {
    Check.arg(p != null, "%s: QParams is null", op);
    if (channelSize < 0) {
      throw new IllegalArgumentException(op + ": channelSize must be >= 0, got " + channelSize);
    }
    long n = (long) p.channels() * channelSize;
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(op + ": " + n + " elements is too many");
    }
    Check.length(op, "x", x, n);
    return (int) n;
  }
}
