package org.qlimit.quant;

import java.util.Arrays;
import org.qlimit.util.Check;

/**
 * Per-channel observed ranges [lo_c, hi_c] (one channel for per-tensor), before conversion to
 * {@link QParams}. Ranges from several calibration batches are merged by running min/max, as
 * QDrop's observers do ({@code self.min_val = torch.min(self.min_val, best_min)},
 * qdrop/quantization/observer.py l.212–213; ALGORITHMS.md §2).
 */
public record QRange(float[] lo, float[] hi) {

  public QRange {
    Check.arg(lo != null && hi != null && lo.length == hi.length && lo.length > 0,
        "QRange: lo and hi must be non-empty and of equal length");
    lo = lo.clone();
    hi = hi.clone();
  }

  public int channels() {
    return lo.length;
  }

  @Override
  public float[] lo() {
    return lo.clone();
  }

  @Override
  public float[] hi() {
    return hi.clone();
  }

  /** Elementwise [min(lo, o.lo), max(hi, o.hi)]. */
  public QRange merge(QRange o) {
    Check.arg(o.channels() == channels(), "QRange.merge: %d vs %d channels", channels(),
        o.channels());
    float[] l = new float[lo.length];
    float[] h = new float[lo.length];
    for (int c = 0; c < lo.length; c++) {
      l[c] = Math.min(lo[c], o.lo[c]);
      h[c] = Math.max(hi[c], o.hi[c]);
    }
    return new QRange(l, h);
  }

  /** {@link QParams#fromRange(float[], float[], QScheme)} of this range. */
  public QParams toQParams(QScheme scheme) {
    return QParams.fromRange(lo, hi, scheme);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof QRange r && Arrays.equals(lo, r.lo) && Arrays.equals(hi, r.hi);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(lo) + Arrays.hashCode(hi);
  }

  @Override
  public String toString() {
    return "QRange[lo=" + Arrays.toString(lo) + ", hi=" + Arrays.toString(hi) + "]";
  }
}
