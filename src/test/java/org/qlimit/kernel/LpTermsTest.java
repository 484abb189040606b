package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.util.NumericsConfig;

/**
 * The Lp range-search score: the float32 term d^2.4 against StrictMath.pow, and the vector sum
 * against the scalar definition, bit for bit, at every width and on awkward lengths and values.
 */
@Tag(VectorWidths.TAG)
class LpTermsTest {

  @Test
  void termAgreesWithStrictMathPowToAboutOneUlp() {
    SplittableRandom r = new SplittableRandom(7);
    double worst = 0;
    for (int i = 0; i < 300_000; i++) {
      // log-uniform over [2^-60, 2^50]: every exponent residue r = e mod 5 and every mantissa
      float d = (float) Math.scalb(1.0 + r.nextDouble(), r.nextInt(-60, 50));
      worst = Math.max(worst, error(d));
    }
    for (float d : new float[] {1f, 2f, 0.5f, 1.5f, 0x1p-60f, 0x1.fffffep49f}) {
      worst = Math.max(worst, error(d));
    }
    assertThat(worst).as("max relative error of d^2.4").isLessThan(3.5e-7);
    assertThat(LpTerms.term(1f)).isCloseTo(1f, org.assertj.core.api.Assertions.within(2e-7f));
    assertThat(LpTerms.term(0f)).isZero();
    assertThat(LpTerms.term(0x1p-61f)).isZero();
  }

  /**
   * Relative error of term(d), or for results below float's normal range (d under about 2^-52.5,
   * where the float result itself is subnormal) the absolute error in units of 2^-149.
   */
  private static double error(float d) {
    double exact = StrictMath.pow(d, 2.4);
    double err = Math.abs(LpTerms.term(d) - exact);
    return exact >= Float.MIN_NORMAL ? err / exact : err / Float.MIN_VALUE * 1e-7;
  }

  @Test
  void sumIsTheChunkedSixteenLaneDefinition() {
    // 2·CHUNK + 37 elements: two full chunks, then 32 lane elements and 5 leftovers
    float[] x = data(new SplittableRandom(3), 2 * LpTerms.CHUNK + 37);
    float s = 0.37f;
    float z = 3f;
    double expected = 0;
    for (int c0 = 0; c0 < x.length; c0 += LpTerms.CHUNK) {
      int n = Math.min(LpTerms.CHUNK, x.length - c0);
      float[] lanes = new float[16];
      int full = n - n % 16;
      for (int i = 0; i < full; i++) {
        float v = x[c0 + i];
        lanes[i % 16] += LpTerms.term(Math.abs(v - LpTerms.fakeQuant(v, s, z, 0f, 15f)));
      }
      float chunk = Lanes.sumInOrder(lanes);
      for (int i = full; i < n; i++) {
        float v = x[c0 + i];
        chunk += LpTerms.term(Math.abs(v - LpTerms.fakeQuant(v, s, z, 0f, 15f)));
      }
      expected += chunk;
    }
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15)).isEqualTo(expected);
    // and it is the Lp sum: within float accumulation error of a double StrictMath.pow sum
    double ref = 0;
    for (float v : x) {
      ref += StrictMath.pow(Math.abs(v - LpTerms.fakeQuant(v, s, z, 0f, 15f)), 2.4);
    }
    assertThat(Math.abs(expected - ref) / ref).isLessThan(1e-5);
  }

  @Test
  void sumUpToStopsAfterTheFirstChunkOverTheLimit() {
    float[] x = data(new SplittableRandom(5), 3 * LpTerms.CHUNK + 9);
    float s = 0.37f;
    float z = 3f;
    double full = LpTerms.sum(x, 0, x.length, s, z, 0, 15);
    double first = LpTerms.sum(x, 0, LpTerms.CHUNK, s, z, 0, 15);
    double two = first + LpTerms.sum(x, LpTerms.CHUNK, LpTerms.CHUNK, s, z, 0, 15);
    assertThat(first).isPositive().isLessThan(two);
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15, Double.POSITIVE_INFINITY)).isEqualTo(full);
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15, full)).isEqualTo(full);
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15, 0)).isEqualTo(first);
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15, first)).isEqualTo(two);
    assertThat(LpTerms.sum(x, 0, x.length, s, z, 0, 15, Math.nextDown(full)))
        .isGreaterThan(Math.nextDown(full)).isLessThanOrEqualTo(full);
  }

  @Test
  void fakeQuantIsTheQuantizersFormula() {
    // ties round half to even; the clamp holds at both ends
    assertThat(LpTerms.fakeQuant(0.5f, 1f, 0f, 0f, 3f)).isEqualTo(0f);
    assertThat(LpTerms.fakeQuant(1.5f, 1f, 0f, 0f, 3f)).isEqualTo(2f);
    assertThat(LpTerms.fakeQuant(-2.5f, 1f, 2f, 0f, 3f)).isEqualTo(-2f);
    assertThat(LpTerms.fakeQuant(9f, 1f, 0f, 0f, 3f)).isEqualTo(3f);
    assertThat(LpTerms.fakeQuant(-9f, 0.5f, 1f, 0f, 3f)).isEqualTo(-0.5f);
  }

  @Test
  void simdEqualsScalarBitwiseAtEveryWidth() {
    SplittableRandom rng = new SplittableRandom(11);
    int[] lengths = {0, 1, 15, 16, 17, 63, 4095, 4096, 4097, 9000};
    // the last three take the scalar path (z not an integer, levels beyond 2^21)
    float[][] params = {{0.37f, 3f, 0f, 15f}, {0.01f, 0f, 0f, 3f}, {2.5f, 1f, 0f, 255f},
        {1e-3f, 2f, 0f, 3f}, {1f, 0f, 0f, 1f}, {3e-6f, 128f, 0f, 255f}, {0.3f, -7f, -8f, 7f},
        {0.37f, 2.5f, 0f, 15f}, {1e-3f, 0f, -(1 << 22), 1 << 22}, {0.5f, 1 << 22, 0f, 1 << 23}};
    for (int bits : new int[] {128, 256, 512}) {
      SimdKernels k = SimdKernels.exactWidth(new NumericsConfig(bits, 1));
      for (int len : lengths) {
        float[] x = data(rng, len + 5);
        for (float[] p : params) {
          int qmin = (int) p[2];
          int qmax = (int) p[3];
          double want = LpTerms.sum(x, 5, len, p[0], p[1], qmin, qmax);
          double got = k.lpSum(x, 5, len, p[0], p[1], qmin, qmax);
          assertThat(Double.doubleToRawLongBits(got))
              .as("%d bits, len %d, s %s z %s", bits, len, p[0], p[1])
              .isEqualTo(Double.doubleToRawLongBits(want));
          for (double limit : len > LpTerms.CHUNK ? new double[] {0, want / 2} : new double[0]) {
            assertThat(Double.doubleToRawLongBits(
                k.lpSumUpTo(x, 5, len, p[0], p[1], qmin, qmax, limit)))
                .as("%d bits, len %d, s %s z %s, limit %s", bits, len, p[0], p[1], limit)
                .isEqualTo(Double.doubleToRawLongBits(
                    LpTerms.sum(x, 5, len, p[0], p[1], qmin, qmax, limit)));
          }
        }
      }
    }
  }

  /**
   * Gaussians at several scales, exact ties (k + 0.5 multiples of the scales used), zeros,
   * values beyond 2^23 steps and tiny values, mixed.
   */
  private static float[] data(SplittableRandom r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = switch (r.nextInt(8)) {
        case 0 -> 0f;
        case 1 -> (r.nextInt(-20, 20) + 0.5f) * 0.37f;
        case 2 -> (float) (r.nextGaussian() * 1e5);
        case 3 -> (float) (r.nextGaussian() * 1e-20);
        case 4 -> (r.nextInt(-20, 20) + 0.5f);
        default -> (float) r.nextGaussian();
      };
    }
    return x;
  }
}
