package org.qlimit.kernel;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import org.qlimit.util.Parallel;

/**
 * Vector API implementation of {@link IntKernels}, bit-identical to {@link ScalarIntKernels} at
 * every vector width and thread count (integer arithmetic is exact).
 *
 * <ul>
 *   <li>conv: per batch item and group, the zero-point-subtracted input is unfolded (im2col,
 *       padding as 0) into a (cin/groups·kh·kw) × (ho·wo) scratch matrix; each output row starts at
 *       its bias and adds w[co, k] · col[k, :] as int32 vector runs (zero weights skipped: adding 0
 *       changes nothing).
 *   <li>requantize, requantizeSum: int64 lanes (half as many as the int32 species of the same
 *       width) for the product, the rounding shift and the clamp; the tail of each channel plane
 *       runs the scalar formula.
 * </ul>
 *
 * The species are static final constants chosen by a switch per call, so that C2 compiles the
 * loops to machine vectors.
 */
public final class SimdIntKernels implements IntKernels {
  private static final VectorSpecies<Integer> I128 = IntVector.SPECIES_128;
  private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
  private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
  private static final VectorSpecies<Integer> H128 = IntVector.SPECIES_64;
  private static final VectorSpecies<Integer> H256 = IntVector.SPECIES_128;
  private static final VectorSpecies<Integer> H512 = IntVector.SPECIES_256;
  private static final VectorSpecies<Long> L128 = LongVector.SPECIES_128;
  private static final VectorSpecies<Long> L256 = LongVector.SPECIES_256;
  private static final VectorSpecies<Long> L512 = LongVector.SPECIES_512;

  private final NumericsConfig cfg;
  private final ThreadLocal<int[]> scratch = ThreadLocal.withInitial(() -> new int[0]);

  /** @param cfg vectorBits must be 128, 256 or 512 */
  public SimdIntKernels(NumericsConfig cfg) {
    Check.arg(cfg.vectorBits() == 128 || cfg.vectorBits() == 256 || cfg.vectorBits() == 512,
        "SimdIntKernels: vectorBits must be 128, 256 or 512, got %d", cfg.vectorBits());
    this.cfg = cfg;
  }

  @Override
  public NumericsConfig config() {
    return cfg;
  }

  private int[] scratch(int size) {
    int[] s = scratch.get();
    if (s.length < size) {
      s = new int[size];
      scratch.set(s);
    }
    return s;
  }

  @Override
  public void conv(int[] acc, int[] x, int[] w, int[] bias, ConvShape s) {
    ScalarIntKernels.checkConv(acc, x, w, bias, s);
    int ho = s.ho();
    int wo = s.wo();
    int p = ho * wo;
    int cinG = s.cinPerGroup();
    int coutG = s.coutPerGroup();
    int kk = cinG * s.kh() * s.kw();
    Parallel.forRange(cfg.threads(), s.n(), (from, to) -> {
      int[] col = scratch(kk * p);
      for (int b = from; b < to; b++) {
        for (int g = 0; g < s.groups(); g++) {
          im2col(col, x, s, b, g);
          for (int co = g * coutG; co < (g + 1) * coutG; co++) {
            int yOff = (b * s.cout() + co) * p;
            java.util.Arrays.fill(acc, yOff, yOff + p, bias == null ? 0 : bias[co]);
            int wOff = co * kk;
            for (int k = 0; k < kk; k++) {
              int wv = w[wOff + k];
              if (wv != 0) {
                addScaled(acc, yOff, wv, col, k * p, p);
              }
            }
          }
        }
      }
    });
  }

  /** col[(ci·kh + ky)·kw + kx, oy·wo + ox] = x[b, g·cinG + ci, iy, ix], 0 outside the image. */
  private static void im2col(int[] col, int[] x, ConvShape s, int b, int g) {
    int ho = s.ho();
    int wo = s.wo();
    int p = ho * wo;
    int cinG = s.cinPerGroup();
    int row = 0;
    for (int ci = 0; ci < cinG; ci++) {
      int xBase = (b * s.cin() + g * cinG + ci) * s.h() * s.w();
      for (int ky = 0; ky < s.kh(); ky++) {
        for (int kx = 0; kx < s.kw(); kx++, row++) {
          int o = row * p;
          for (int oy = 0; oy < ho; oy++) {
            int iy = oy * s.stride() - s.pad() + ky;
            for (int ox = 0; ox < wo; ox++) {
              int ix = ox * s.stride() - s.pad() + kx;
              col[o++] = iy >= 0 && iy < s.h() && ix >= 0 && ix < s.w()
                  ? x[xBase + iy * s.w() + ix] : 0;
            }
          }
        }
      }
    }
  }

  private void addScaled(int[] y, int yOff, int a, int[] x, int xOff, int len) {
    switch (cfg.vectorBits()) {
      case 128 -> addScaled(I128, y, yOff, a, x, xOff, len);
      case 256 -> addScaled(I256, y, yOff, a, x, xOff, len);
      default -> addScaled(I512, y, yOff, a, x, xOff, len);
    }
  }

  /** y[yOff + i] += a · x[xOff + i] for i &lt; len (int32). */
  private static void addScaled(VectorSpecies<Integer> sp, int[] y, int yOff, int a, int[] x,
      int xOff, int len) {
    int i = 0;
    int bound = sp.loopBound(len);
    for (; i < bound; i += sp.length()) {
      IntVector xv = IntVector.fromArray(sp, x, xOff + i);
      IntVector yv = IntVector.fromArray(sp, y, yOff + i);
      yv.add(xv.mul(a)).intoArray(y, yOff + i);
    }
    for (; i < len; i++) {
      y[yOff + i] += a * x[xOff + i];
    }
  }

  @Override
  public void requantize(int[] q, int[] v, int[] m0, int[] shift, int zero, int lo, int hi, int n,
      int channels, int plane) {
    ScalarIntKernels.checkRequant(q, v, m0, shift, lo, hi, n, channels, plane);
    Parallel.forRange(cfg.threads(), n, (from, to) -> {
      for (int b = from; b < to; b++) {
        for (int c = 0; c < channels; c++) {
          int off = (b * channels + c) * plane;
          switch (cfg.vectorBits()) {
            case 128 -> requantRun(H128, L128, q, v, off, plane, m0[c], shift[c], zero, lo, hi);
            case 256 -> requantRun(H256, L256, q, v, off, plane, m0[c], shift[c], zero, lo, hi);
            default -> requantRun(H512, L512, q, v, off, plane, m0[c], shift[c], zero, lo, hi);
          }
        }
      }
    });
  }

  private static void requantRun(VectorSpecies<Integer> hs, VectorSpecies<Long> ls, int[] q,
      int[] v, int off, int len, int m0, int shift, int zero, int lo, int hi) {
    int i = 0;
    int bound = ls.loopBound(len);
    for (; i < bound; i += ls.length()) {
      LongVector p = widen(hs, ls, v, off + i).mul(m0);
      LongVector r = roundShift(p, shift).add(zero).max(lo).min(hi);
      narrow(r, hs).intoArray(q, off + i);
    }
    for (; i < len; i++) {
      long r = zero + FixedPoint.roundShift((long) v[off + i] * m0, shift);
      q[off + i] = (int) Math.min(Math.max(r, lo), hi);
    }
  }

  @Override
  public void requantizeSum(int[] q, int[] a, int[] am0, int[] ashift, int[] b, int[] bm0,
      int[] bshift, int frac, int zero, int lo, int hi, int n, int channels, int plane) {
    ScalarIntKernels.checkRequant(q, a, am0, ashift, lo, hi, n, channels, plane);
    ScalarIntKernels.checkRequant(q, b, bm0, bshift, lo, hi, n, channels, plane);
    Check.arg(frac >= 1 && frac <= FixedPoint.MAX_SHIFT, "requantizeSum: frac %d not in 1..62",
        frac);
    Parallel.forRange(cfg.threads(), n, (from, to) -> {
      for (int item = from; item < to; item++) {
        for (int c = 0; c < channels; c++) {
          int off = (item * channels + c) * plane;
          switch (cfg.vectorBits()) {
            case 128 -> sumRun(H128, L128, q, a, b, off, plane, am0[c], ashift[c], bm0[c],
                bshift[c], frac, zero, lo, hi);
            case 256 -> sumRun(H256, L256, q, a, b, off, plane, am0[c], ashift[c], bm0[c],
                bshift[c], frac, zero, lo, hi);
            default -> sumRun(H512, L512, q, a, b, off, plane, am0[c], ashift[c], bm0[c],
                bshift[c], frac, zero, lo, hi);
          }
        }
      }
    });
  }

  private static void sumRun(VectorSpecies<Integer> hs, VectorSpecies<Long> ls, int[] q, int[] a,
      int[] b, int off, int len, int am0, int ashift, int bm0, int bshift, int frac, int zero,
      int lo, int hi) {
    int i = 0;
    int bound = ls.loopBound(len);
    for (; i < bound; i += ls.length()) {
      LongVector t = roundShift(widen(hs, ls, a, off + i).mul(am0), ashift)
          .add(roundShift(widen(hs, ls, b, off + i).mul(bm0), bshift));
      LongVector r = roundShift(t, frac).add(zero).max(lo).min(hi);
      narrow(r, hs).intoArray(q, off + i);
    }
    for (; i < len; i++) {
      long t = FixedPoint.roundShift((long) a[off + i] * am0, ashift)
          + FixedPoint.roundShift((long) b[off + i] * bm0, bshift);
      long r = zero + FixedPoint.roundShift(t, frac);
      q[off + i] = (int) Math.min(Math.max(r, lo), hi);
    }
  }

  /** int32 elements v[off ..] as int64 lanes. */
  private static LongVector widen(VectorSpecies<Integer> hs, VectorSpecies<Long> ls, int[] v,
      int off) {
    return (LongVector) IntVector.fromArray(hs, v, off).convertShape(VectorOperators.I2L, ls, 0);
  }

  /** int64 lanes (already clamped to the int32 range) as int32 elements. */
  private static IntVector narrow(LongVector r, VectorSpecies<Integer> hs) {
    return (IntVector) r.convertShape(VectorOperators.L2I, hs, 0);
  }

  /** {@link FixedPoint#roundShift} lanewise. */
  private static LongVector roundShift(LongVector p, int k) {
    LongVector t = p.lanewise(VectorOperators.ASHR, k);
    LongVector r = p.and((1L << k) - 1);
    long half = 1L << (k - 1);
    VectorMask<Long> up = r.compare(VectorOperators.GT, half)
        .or(r.compare(VectorOperators.EQ, half).and(t.and(1L).compare(VectorOperators.NE, 0L)));
    return t.add(1L, up);
  }
}
