package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.util.NumericsConfig;

/**
 * The SIMD integer kernels against the scalar definitions, bit for bit, at 128, 256 and 512 bits
 * and 1, 2 and 3 threads on awkward sizes; the fixed-point rounding against exact arithmetic.
 */
@Tag(VectorWidths.TAG)
class IntKernelsTwinTest {
  private static final IntKernels REF = new ScalarIntKernels(1);

  private static IntKernels[] variants() {
    return new IntKernels[] {
        new ScalarIntKernels(3),
        new SimdIntKernels(new NumericsConfig(128, 1)),
        new SimdIntKernels(new NumericsConfig(128, 3)),
        new SimdIntKernels(new NumericsConfig(256, 1)),
        new SimdIntKernels(new NumericsConfig(256, 2)),
        new SimdIntKernels(new NumericsConfig(512, 1)),
        new SimdIntKernels(new NumericsConfig(512, 3)),
    };
  }

  private static int[] ints(long seed, int n, int lo, int hi) {
    SplittableRandom r = new SplittableRandom(seed);
    int[] v = new int[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextInt(lo, hi + 1);
    }
    return v;
  }

  @Test
  void convMatchesTheDefinitionAtEveryWidthAndThreadCount() {
    for (ConvShape s : ConvTwinTest.SHAPES) {
      int[] x = ints(1, (int) s.inputSize(), -255, 255);
      int[] w = ints(2, (int) s.weightSize(), -255, 255);
      for (int[] bias : new int[][] {null, ints(3, s.cout(), -100000, 100000)}) {
        int[] want = new int[(int) s.outputSize()];
        REF.conv(want, x, w, bias, s);
        for (IntKernels k : variants()) {
          int[] got = ints(9, (int) s.outputSize(), -5, 5);
          k.conv(got, x, w, bias, s);
          assertThat(got).as("%s %s bias %s", k.config(), s, bias != null).isEqualTo(want);
        }
      }
    }
  }

  @Test
  void convOfOneTapIsTheProduct() {
    // 1x1 input, 1x1 kernel, bias 7: acc = 7 + w·x exactly
    ConvShape s = new ConvShape(1, 1, 1, 1, 1, 1, 1, 1, 0, 1);
    for (IntKernels k : variants()) {
      int[] acc = new int[1];
      k.conv(acc, new int[] {-255}, new int[] {129}, new int[] {7}, s);
      assertThat(acc[0]).isEqualTo(7 - 255 * 129);
    }
  }

  @Test
  void requantizeMatchesTheDefinition() {
    SplittableRandom r = new SplittableRandom(5);
    for (int plane : new int[] {1, 2, 3, 7, 8, 9, 15, 16, 17, 33, 100}) {
      int n = 3;
      int channels = 4;
      int size = n * channels * plane;
      int[] v = new int[size];
      for (int i = 0; i < size; i++) {
        v[i] = i % 5 == 0 ? r.nextInt() : r.nextInt(-70000, 70000);
      }
      int[] m0 = new int[channels];
      int[] shift = new int[channels];
      for (int c = 0; c < channels; c++) {
        FixedPoint.Multiplier m = FixedPoint.encode(c == 3 ? 1e-12 : Math.scalb(
            1 + r.nextDouble(), -r.nextInt(1, 20)));
        m0[c] = m.m0();
        shift[c] = m.shift();
      }
      int[] want = new int[size];
      REF.requantize(want, v, m0, shift, 3, 0, 15, n, channels, plane);
      int[] b = ints(plane, size, Integer.MIN_VALUE, Integer.MAX_VALUE - 1);
      int[] bm0 = {1 << 30, Integer.MAX_VALUE, 0, 1_500_000_000};
      int[] bshift = {1, 40, 1, 62};
      int[] wantSum = new int[size];
      REF.requantizeSum(wantSum, v, m0, shift, b, bm0, bshift, 16, -2, -8, 7, n, channels,
          plane);
      for (int c = 0; c < channels; c++) {
        assertThat(want[c * plane]).isEqualTo((int) Math.min(Math.max(3 + FixedPoint.roundShift(
            (long) v[c * plane] * m0[c], shift[c]), 0), 15));
      }
      for (IntKernels k : variants()) {
        int[] got = new int[size];
        k.requantize(got, v, m0, shift, 3, 0, 15, n, channels, plane);
        assertThat(got).as("%s plane %d", k.config(), plane).isEqualTo(want);
        int[] gotSum = new int[size];
        k.requantizeSum(gotSum, v, m0, shift, b, bm0, bshift, 16, -2, -8, 7, n, channels,
            plane);
        assertThat(gotSum).as("sum %s plane %d", k.config(), plane).isEqualTo(wantSum);
      }
    }
  }

  @Test
  void roundShiftIsExactRoundingHalfToEven() {
    SplittableRandom r = new SplittableRandom(7);
    long[] ps = {0, 1, -1, 2, -2, 3, -3, 5, -5, 6, -6, 7, -7, Long.MAX_VALUE >> 1,
        Long.MIN_VALUE >> 1};
    for (int k = 1; k <= 62; k++) {
      for (long p : ps) {
        assertThat(FixedPoint.roundShift(p, k)).as("p=%d k=%d", p, k)
            .isEqualTo(exact(p, k));
      }
      for (int i = 0; i < 200; i++) {
        long p = r.nextLong() >> 2;
        assertThat(FixedPoint.roundShift(p, k)).isEqualTo(exact(p, k));
      }
    }
    // ties: 2.5 → 2, 3.5 → 4, −2.5 → −2, −3.5 → −4
    assertThat(FixedPoint.roundShift(5, 1)).isEqualTo(2);
    assertThat(FixedPoint.roundShift(7, 1)).isEqualTo(4);
    assertThat(FixedPoint.roundShift(-5, 1)).isEqualTo(-2);
    assertThat(FixedPoint.roundShift(-7, 1)).isEqualTo(-4);
    assertThat(FixedPoint.roundDiv(5, 2)).isEqualTo(2);
    assertThat(FixedPoint.roundDiv(-5, 2)).isEqualTo(-2);
    assertThat(FixedPoint.roundDiv(-7, 2)).isEqualTo(-4);
    assertThat(FixedPoint.roundDiv(10, 4)).isEqualTo(2);
    assertThat(FixedPoint.roundDiv(-11, 4)).isEqualTo(-3);
  }

  private static long exact(long p, int k) {
    return new BigDecimal(BigInteger.valueOf(p)).divide(new BigDecimal(BigInteger.ONE.shiftLeft(k)))
        .setScale(0, RoundingMode.HALF_EVEN).longValueExact();
  }

  @Test
  void encodedMultipliersAreWithinHalfAnUlpOfQ31() {
    SplittableRandom r = new SplittableRandom(11);
    for (int i = 0; i < 2000; i++) {
      double m = Math.scalb(1 + r.nextDouble(), r.nextInt(-32, 30));
      FixedPoint.Multiplier e = FixedPoint.encode(m);
      assertThat(e.m0()).isBetween(1 << 30, Integer.MAX_VALUE);
      assertThat(Math.abs(e.value() - m)).isLessThanOrEqualTo(Math.scalb(m, -31));
    }
    assertThat(FixedPoint.encode(0.5)).isEqualTo(new FixedPoint.Multiplier(1 << 30, 31));
    assertThat(FixedPoint.encode(1e-12)).isEqualTo(new FixedPoint.Multiplier(0, 1));
    assertThat(FixedPoint.encode(Math.nextDown(2.0)).value()).isEqualTo(2.0);
  }
}
