package org.qlimit.kernel;

import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import org.qlimit.util.Parallel;

/**
 * The reference {@link IntKernels}: the definitions written as plain loops (docs/INTEGER.md §2,
 * §3). Threads split batch items.
 */
public final class ScalarIntKernels implements IntKernels {
  private final NumericsConfig cfg;

  public ScalarIntKernels(int threads) {
    this.cfg = new NumericsConfig(0, threads);
  }

  @Override
  public NumericsConfig config() {
    return cfg;
  }

  @Override
  public void conv(int[] acc, int[] x, int[] w, int[] bias, ConvShape s) {
    checkConv(acc, x, w, bias, s);
    int ho = s.ho();
    int wo = s.wo();
    int cinG = s.cinPerGroup();
    int coutG = s.coutPerGroup();
    Parallel.forRange(cfg.threads(), s.n(), (from, to) -> {
      for (int b = from; b < to; b++) {
        for (int co = 0; co < s.cout(); co++) {
          int g = co / coutG;
          int yBase = (b * s.cout() + co) * ho * wo;
          for (int oy = 0; oy < ho; oy++) {
            for (int ox = 0; ox < wo; ox++) {
              int sum = bias == null ? 0 : bias[co];
              for (int ci = 0; ci < cinG; ci++) {
                int xBase = (b * s.cin() + g * cinG + ci) * s.h() * s.w();
                int wBase = (co * cinG + ci) * s.kh() * s.kw();
                for (int ky = 0; ky < s.kh(); ky++) {
                  int iy = oy * s.stride() - s.pad() + ky;
                  if (iy < 0 || iy >= s.h()) {
                    continue;
                  }
                  for (int kx = 0; kx < s.kw(); kx++) {
                    int ix = ox * s.stride() - s.pad() + kx;
                    if (ix >= 0 && ix < s.w()) {
                      sum += w[wBase + ky * s.kw() + kx] * x[xBase + iy * s.w() + ix];
                    }
                  }
                }
              }
              acc[yBase + oy * wo + ox] = sum;
            }
          }
        }
      }
    });
  }

  @Override
  public void requantize(int[] q, int[] v, int[] m0, int[] shift, int zero, int lo, int hi, int n,
      int channels, int plane) {
    checkRequant(q, v, m0, shift, lo, hi, n, channels, plane);
    Parallel.forRange(cfg.threads(), n, (from, to) -> {
      for (int b = from; b < to; b++) {
        for (int c = 0; c < channels; c++) {
          int off = (b * channels + c) * plane;
          for (int i = off; i < off + plane; i++) {
            long r = zero + FixedPoint.roundShift((long) v[i] * m0[c], shift[c]);
            q[i] = (int) Math.min(Math.max(r, lo), hi);
          }
        }
      }
    });
  }

  @Override
  public void requantizeSum(int[] q, int[] a, int[] am0, int[] ashift, int[] b, int[] bm0,
      int[] bshift, int frac, int zero, int lo, int hi, int n, int channels, int plane) {
    checkRequant(q, a, am0, ashift, lo, hi, n, channels, plane);
    checkRequant(q, b, bm0, bshift, lo, hi, n, channels, plane);
    Check.arg(q != b, "requantizeSum: q must not alias b");
    Check.arg(frac >= 1 && frac <= FixedPoint.MAX_SHIFT, "requantizeSum: frac %d not in 1..62",
        frac);
    Parallel.forRange(cfg.threads(), n, (from, to) -> {
      for (int item = from; item < to; item++) {
        for (int c = 0; c < channels; c++) {
          int off = (item * channels + c) * plane;
          for (int i = off; i < off + plane; i++) {
            long t = FixedPoint.roundShift((long) a[i] * am0[c], ashift[c])
                + FixedPoint.roundShift((long) b[i] * bm0[c], bshift[c]);
            long r = zero + FixedPoint.roundShift(t, frac);
            q[i] = (int) Math.min(Math.max(r, lo), hi);
          }
        }
      }
    });
  }

  static void checkConv(int[] acc, int[] x, int[] w, int[] bias, ConvShape s) {
    Check.arg(acc != null && x != null && w != null, "conv: null array");
    Check.arg(acc != x, "conv: acc must not alias x");
    Check.arg(x.length >= s.inputSize(), "conv: x has %d elements, shape needs %d", x.length,
        s.inputSize());
    Check.arg(w.length >= s.weightSize(), "conv: w has %d elements, shape needs %d", w.length,
        s.weightSize());
    Check.arg(acc.length >= s.outputSize(), "conv: acc has %d elements, shape needs %d",
        acc.length, s.outputSize());
    Check.arg(bias == null || bias.length >= s.cout(), "conv: bias has %d elements, needs %d",
        bias == null ? 0 : bias.length, s.cout());
  }

  static void checkRequant(int[] q, int[] v, int[] m0, int[] shift, int lo, int hi, int n,
      int channels, int plane) {
    Check.arg(q != null && v != null && m0 != null && shift != null, "requantize: null array");
    Check.arg(q != v, "requantize: q must not alias its input");
    Check.arg(n >= 0 && channels > 0 && plane > 0, "requantize: bad sizes n=%d channels=%d "
        + "plane=%d", n, channels, plane);
    long size = (long) n * channels * plane;
    Check.arg(q.length >= size && v.length >= size, "requantize: arrays need %d elements, have "
        + "%d and %d", size, q.length, v.length);
    Check.arg(m0.length >= channels && shift.length >= channels, "requantize: %d channels, %d "
        + "mantissas, %d shifts", channels, m0.length, shift.length);
    Check.arg(lo <= hi, "requantize: empty clamp range [%d, %d]", lo, hi);
    for (int c = 0; c < channels; c++) {
      Check.arg(shift[c] >= 1 && shift[c] <= FixedPoint.MAX_SHIFT,
          "requantize: shift %d of channel %d not in 1..62", shift[c], c);
    }
  }
}
