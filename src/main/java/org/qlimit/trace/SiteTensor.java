package org.qlimit.trace;

import org.qlimit.io.TensorEntry;
import org.qlimit.util.Check;

/**
 * The integer levels q of one activation site for a batch: q ∈ [qmin, qmax] of the site's bit
 * width, zero point included (the real value is (q − z)·s).
 *
 * @param site the activation site's name (as in the quantized model file)
 * @param shape (N, C, H, W)
 * @param levels N·C·H·W levels, row-major
 */
public record SiteTensor(String site, int[] shape, int[] levels) {
  public SiteTensor {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    Check.arg(levels.length == n, "site %s: %d levels for shape of %d elements", site,
        levels.length, n);
  }

  /** This site as a trace tensor: I32 levels of shape (N, C, H, W), named after the site. */
  public TensorEntry entry() {
    return TensorEntry.i32(site, longs(shape), levels);
  }

  /** {@code s} widened to long, as {@link TensorEntry} shapes are. */
  public static long[] longs(int[] s) {
    long[] o = new long[s.length];
    for (int i = 0; i < s.length; i++) {
      o[i] = s[i];
    }
    return o;
  }
}
