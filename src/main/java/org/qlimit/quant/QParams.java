package org.qlimit.quant;

import java.util.Arrays;
import org.qlimit.util.Check;

/**
 * Immutable quantization parameters: one (scale, zero point) per channel on axis 0, or a single
 * pair for a per-tensor quantizer (ALGORITHMS.md §1).
 *
 * <p>Layout: a per-channel tensor is viewed as (channels, channelSize) row-major, so element
 * {@code i} belongs to channel {@code i / channelSize} (axis 0 of a conv weight
 * (cout, cin/g, kh, kw) or a linear weight (out, in)). Per-tensor means {@code channels() == 1}
 * with {@code channelSize} the element count.
 *
 * <p>Zero points are floats holding integers, as in the references where {@code round_ste(x/s)
 * + z} is a float tensor. The arrays are copied on construction and on access; use
 * {@link #scale(int)} and {@link #zeroPoint(int)} in loops (no allocation).
 */
public record QParams(float[] scale, float[] zeroPoint, QScheme scheme) {

  /** Lower bound on the scale, as {@code ObserverBase.eps} (QDrop observer.py l.28, l.63–66). */
  public static final float MIN_SCALE = 1e-8f;

  public QParams {
    Check.arg(scale != null && zeroPoint != null && scheme != null, "QParams: null argument");
    Check.arg(scale.length >= 1, "QParams: at least one channel required");
    Check.arg(
        scale.length == zeroPoint.length,
        "QParams: %d scales but %d zero points",
        scale.length,
        zeroPoint.length);
    scale = scale.clone();
    zeroPoint = zeroPoint.clone();
    for (int c = 0; c < scale.length; c++) {
      Check.arg(
          Float.isFinite(scale[c]) && scale[c] > 0f, "QParams: scale[%d] = %s", c, scale[c]);
      float z = zeroPoint[c];
      Check.arg(z == Math.rint(z), "QParams: zeroPoint[%d] = %s is not an integer", c, z);
      Check.arg(
          z >= scheme.qmin() && z <= scheme.qmax(),
          "QParams: zeroPoint[%d] = %s outside [%d, %d]",
          c,
          z,
          scheme.qmin(),
          scheme.qmax());
      Check.arg(!scheme.symmetric() || z == 0f, "QParams: symmetric zeroPoint[%d] = %s", c, z);
    }
  }

  /** One (scale, zero point) for the whole tensor. */
  public static QParams perTensor(float scale, float zeroPoint, QScheme scheme) {
    return new QParams(new float[] {scale}, new float[] {zeroPoint}, scheme);
  }

  /**
   * Parameters from per-channel ranges (ALGORITHMS.md §1; QDrop {@code calculate_qparams},
   * observer.py l.51–69). All arithmetic is float32, as in the reference:
   *
   * <pre>
   *   lo' = min(lo, 0), hi' = max(hi, 0)
   *   asymmetric: s = max((hi' − lo') / (2^b − 1), 1e-8),  z = clamp(qmin − ⌊lo'/s⌉, qmin, qmax)
   *   symmetric:  s = max(max(−lo', hi') / ((2^b − 1)/2), 1e-8),  z = 0
   * </pre>
   *
   * The symmetric scale is QDrop's; BRECQ's {@code UniformAffineQuantizer} (quant_layer.py
   * l.104–113) gives the same grid when lo &lt; 0: s = 2·absmax/(2^b − 1) with z = ⌊(2^b − 1)/2⌉ =
   * 2^(b−1) on unsigned levels, which is the signed grid shifted. (BRECQ switches to an unsigned
   * grid when lo ≥ 0; we do not.) ⌊·⌉ is round-half-even ({@link Math#rint}).
   *
   * @param lo per-channel minimum. Not modified.
   * @param hi per-channel maximum, same length. Not modified.
   */
  public static QParams fromRange(float[] lo, float[] hi, QScheme scheme) {
    Check.arg(lo.length == hi.length, "fromRange: %d lows but %d highs", lo.length, hi.length);
    float[] s = new float[lo.length];
    float[] z = new float[lo.length];
    for (int c = 0; c < lo.length; c++) {
      String ch = lo.length == 1 ? "" : "channel " + c + ": ";
      Check.arg(!Float.isNaN(lo[c]) && !Float.isNaN(hi[c]), "%sstep is NaN (range [%s, %s])",
          ch, Check.describe(lo[c]), Check.describe(hi[c]));
      Check.arg(!(lo[c] > hi[c]), "fromRange: %srange [%s, %s] has lo > hi", ch, lo[c], hi[c]);
      s[c] = scaleFor(lo[c], hi[c], scheme);
      Check.arg(Float.isFinite(s[c]), "%sstep is %s (range [%s, %s])", ch,
          Check.describe(s[c]), Check.describe(lo[c]), Check.describe(hi[c]));
      z[c] = zeroPointFor(lo[c], s[c], scheme);
    }
    return new QParams(s, z, scheme);
  }

  /** Per-tensor {@link #fromRange(float[], float[], QScheme)}. */
  public static QParams fromRange(float lo, float hi, QScheme scheme) {
    return fromRange(new float[] {lo}, new float[] {hi}, scheme);
  }

  /** The scale of {@link #fromRange}, one channel. */
  static float scaleFor(float lo, float hi, QScheme scheme) {
    float loNeg = Math.min(lo, 0f);
    float hiPos = Math.max(hi, 0f);
    float s;
    if (scheme.symmetric()) {
      s = Math.max(-loNeg, hiPos) / ((float) scheme.steps() / 2f);
    } else {
      s = (hiPos - loNeg) / (float) scheme.steps();
    }
    return Math.max(s, MIN_SCALE);
  }

  /** The zero point of {@link #fromRange}, one channel, given its scale. */
  static float zeroPointFor(float lo, float s, QScheme scheme) {
    if (scheme.symmetric()) {
      return 0f;
    }
    float loNeg = Math.min(lo, 0f);
    float z = scheme.qmin() - (float) Math.rint(loNeg / s);
    return Math.min(Math.max(z, scheme.qmin()), scheme.qmax());
  }

  /** Number of channels on axis 0 (1 for per-tensor). */
  public int channels() {
    return scale.length;
  }

  /** Scale of channel c. */
  public float scale(int c) {
    return scale[c];
  }

  /** Zero point of channel c. */
  public float zeroPoint(int c) {
    return zeroPoint[c];
  }

  /** A copy of the scales. */
  @Override
  public float[] scale() {
    return scale.clone();
  }

  /** A copy of the zero points. */
  @Override
  public float[] zeroPoint() {
    return zeroPoint.clone();
  }

  /** The same zero points and scheme with new scales (e.g. after an LSQ step update). */
  public QParams withScale(float[] newScale) {
    return new QParams(newScale, zeroPoint, scheme);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QParams q
        && Arrays.equals(scale, q.scale)
        && Arrays.equals(zeroPoint, q.zeroPoint)
        && scheme.equals(q.scheme);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * Arrays.hashCode(scale) + Arrays.hashCode(zeroPoint)) + scheme.hashCode();
  }

  @Override
  public String toString() {
    return "QParams[scale="
        + Arrays.toString(scale)
        + ", zeroPoint="
        + Arrays.toString(zeroPoint)
        + ", scheme="
        + scheme
        + "]";
  }
}
