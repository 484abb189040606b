package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

/**
 * {@link RoundedPow} gives the bits of its StrictMath.pow definitions (the twin of each method is
 * its {@code ...Strict} definition), for any thread count, on values from the reconstruction
 * loss and AdaRound's regulariser and on awkward ones (zeros, exact ±1, huge and tiny
 * differences, NaN); and its approximation stays far inside the rounding test's tolerance.
 */
@Tag(VectorWidths.TAG)
class RoundedPowTest extends QuietTest {

  /** The largest relative error of approx against StrictMath.pow, over log-uniform x. */
  @Test
  void approximationErrorIsFarBelowTheTolerance() {
    SplittableRandom r = new SplittableRandom(7);
    double worst = 0;
    double[] ys = {2.4, 1.4, 1.0, 2.0, 19.0, 20.0, 0.5};
    for (int i = 0; i < 400_000; i++) {
      double x = StrictMath.pow(2, r.nextDouble(-149, 40)) * (1 + r.nextDouble());
      double y = i % 8 == 7 ? r.nextDouble(1, 20) : ys[i % ys.length];
      if (Math.abs(y * StrictMath.log(x)) > 690) {
        continue;
      }
      double exact = StrictMath.pow(x, y);
      double err = Math.abs(RoundedPow.approx(x, y) - exact) / exact;
      worst = Math.max(worst, err);
    }
    assertThat(worst).isLessThan(0x1p-42).isLessThan(RoundedPow.TOL / 256);
    assertThat(RoundedPow.approx(0, 2.4)).isNaN();
    assertThat(RoundedPow.approx(Double.MIN_VALUE, 2.4)).isNaN();
    assertThat(RoundedPow.approx(Double.POSITIVE_INFINITY, 2.4)).isNaN();
    assertThat(RoundedPow.approx(Double.NaN, 2.4)).isNaN();
    assertThat(RoundedPow.approx(1e300, 2.4)).isNaN();
  }

  /** Differences of the kinds a unit output has: normal, tiny, large, zero, NaN. */
  private static float[][] lossData(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    float[] t = new float[n];
    for (int i = 0; i < n; i++) {
      t[i] = (float) (r.nextGaussian() * 2);
      a[i] = switch (i % 11) {
        case 0 -> t[i];
        case 1 -> t[i] + (float) r.nextDouble(-1e-6, 1e-6);
        case 2 -> Math.nextUp(t[i]);
        case 3 -> (float) (r.nextGaussian() * 1e4);
        default -> t[i] + (float) (r.nextGaussian() * 0.3);
      };
    }
    return new float[][] {a, t};
  }

  @Test
  void lossGradientMatchesTheDefinitionBitForBit() {
    for (int n : new int[] {0, 1, 7, 255, 4099, 50_000}) {
      float[][] d = lossData(n, n);
      for (double p : new double[] {2.4, 3.0, 1.5}) {
        for (double scale : new double[] {1.0 / 12544, -3e-7, 1e30}) {
          float[] ref = seeded(n);
          float[] got = seeded(n);
          RoundedPow.lossGradStrict(ref, d[0], d[1], 0, n, p, scale);
          RoundedPow.lossGrad(got, d[0], d[1], 0, n, p, scale);
          assertThat(bits(got)).as("n=%d p=%s scale=%s", n, p, scale).isEqualTo(bits(ref));
        }
      }
    }
    float[] a = {Float.NaN, 1f, Float.POSITIVE_INFINITY};
    float[] t = {0f, 1f, 0f};
    float[] ref = new float[3];
    float[] got = new float[3];
    RoundedPow.lossGradStrict(ref, a, t, 0, 3, 2.4, 0.5);
    RoundedPow.lossGrad(got, a, t, 0, 3, 2.4, 0.5);
    assertThat(bits(got)).isEqualTo(bits(ref));
  }

  /** The vector twin and the kernels' entry points, on awkward sizes, against the definitions. */
  @Test
  void vectorTwinAndKernelsMatchTheDefinitions() {
    Kernels[] ks = {new ScalarKernels(1), new ScalarKernels(2),
        Kernels.of(new org.qlimit.util.NumericsConfig(256, 1)),
        Kernels.of(new org.qlimit.util.NumericsConfig(512, 2))};
    for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 255, 1023, 4099, 40_000}) {
      float[][] d = lossData(17L * n + 1, n);
      for (double p : new double[] {2.4, 1.5, 1.0}) {
        double scale = 1.0 / Math.max(1, n);
        float[] ref = seeded(n);
        RoundedPow.lossGradStrict(ref, d[0], d[1], 0, n, p, scale);
        float refMean = RoundedPow.lossMeanStrict(d[0], d[1], n, p, Math.max(1, n / 4));
        if (p > 1) {
          float[] got = seeded(n);
          RoundedPowVector.lossGrad(got, d[0], d[1], 0, n, p, scale);
          assertThat(bits(got)).as("vector n=%d p=%s", n, p).isEqualTo(bits(ref));
        }
        float vm = RoundedPow.lossMean(d[0], d[1], n, p, Math.max(1, n / 4), 2,
            RoundedPowVector::approxSum);
        assertThat(Float.floatToRawIntBits(vm)).isEqualTo(Float.floatToRawIntBits(refMean));
        for (Kernels k : ks) {
          float[] got = seeded(n);
          k.lpLossGrad(got, d[0], d[1], n, p, scale);
          assertThat(bits(got)).as("%s n=%d p=%s", k, n, p).isEqualTo(bits(ref));
          float km = k.lpLossMean(d[0], d[1], n, p, Math.max(1, n / 4));
          assertThat(Float.floatToRawIntBits(km)).isEqualTo(Float.floatToRawIntBits(refMean));
        }
      }
    }
  }

  @Test
  void lossMeanMatchesTheDefinitionForAnyThreadCount() {
    for (int n : new int[] {0, 1, 7, 4096, 4099, 100_000}) {
      float[][] d = lossData(31L * n, n);
      for (double p : new double[] {2.4, 1.5}) {
        float ref = RoundedPow.lossMeanStrict(d[0], d[1], n, p, Math.max(1, n / 16));
        for (int threads : new int[] {1, 2, 3}) {
          float got = RoundedPow.lossMean(d[0], d[1], n, p, Math.max(1, n / 16), threads);
          assertThat(Float.floatToRawIntBits(got)).as("n=%d p=%s threads=%d", n, p, threads)
              .isEqualTo(Float.floatToRawIntBits(ref));
        }
      }
    }
    float[] a = {1f, Float.NaN};
    float[] t = {0f, 0f};
    assertThat(RoundedPow.lossMean(a, t, 2, 2.4, 1, 1)).isNaN();
  }

  /**
   * Many small sums, so that some land within the tolerance of a rounding boundary and take the
   * StrictMath path: every one still matches.
   */
  @Test
  void manySmallLossMeansMatch() {
    SplittableRandom r = new SplittableRandom(3);
    for (int k = 0; k < 3000; k++) {
      int n = 1 + r.nextInt(40);
      float[][] d = lossData(k, n);
      float ref = RoundedPow.lossMeanStrict(d[0], d[1], n, 2.4, n);
      float got = RoundedPow.lossMean(d[0], d[1], n, 2.4, n, 1);
      assertThat(Float.floatToRawIntBits(got)).isEqualTo(Float.floatToRawIntBits(ref));
      float vec = RoundedPow.lossMean(d[0], d[1], n, 2.4, n, 1, RoundedPowVector::approxSum);
      assertThat(Float.floatToRawIntBits(vec)).isEqualTo(Float.floatToRawIntBits(ref));
    }
  }

  /** Rectified sigmoids as AdaRound makes them: saturated at 0 and 1, exactly ½, and between. */
  private static float[] hData(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] h = new float[n];
    for (int i = 0; i < n; i++) {
      h[i] = switch (i % 9) {
        case 0 -> 0f;
        case 1 -> 1f;
        case 2 -> 0.5f;
        case 3 -> Math.nextUp(0.5f);
        case 4 -> (float) r.nextDouble(0, 1e-6);
        default -> (float) r.nextDouble();
      };
    }
    return h;
  }

  @Test
  void regularizerMatchesTheDefinitionForAnyThreadCount() {
    for (int n : new int[] {0, 1, 9, 4099, 20_000, 74_000}) {
      float[] h = hData(n, n);
      for (double beta : new double[] {20, 11.3, 2.0000001, 2}) {
        for (double lambda : new double[] {0.01, 1}) {
          float ref = RoundedPow.regularizerStrict(h, n, lambda, beta);
          for (int threads : new int[] {1, 2}) {
            float got = RoundedPow.regularizer(h, n, lambda, beta, threads);
            assertThat(Float.floatToRawIntBits(got))
                .as("n=%d beta=%s lambda=%s threads=%d", n, beta, lambda, threads)
                .isEqualTo(Float.floatToRawIntBits(ref));
          }
        }
      }
    }
  }

  @Test
  void regularizerGradientMatchesTheDefinitionBitForBit() {
    for (int n : new int[] {1, 9, 4099, 50_000}) {
      float[] h = hData(n + 5, n);
      double[] dh = new double[n];
      SplittableRandom r = new SplittableRandom(n);
      for (int i = 0; i < n; i++) {
        dh[i] = i % 13 == 0 ? 0.0 : (float) r.nextDouble(0, 0.3);
      }
      for (double beta : new double[] {20, 7.7, 2}) {
        for (double gradOut : new double[] {1, -0.25}) {
          float[] ref = seeded(n);
          float[] got = seeded(n);
          RoundedPow.regularizerGradStrict(ref, h, dh, 0, n, 0.01, beta, gradOut);
          RoundedPow.regularizerGrad(got, h, dh, 0, n, 0.01, beta, gradOut);
          assertThat(bits(got)).as("n=%d beta=%s", n, beta).isEqualTo(bits(ref));
        }
      }
    }
  }

  /** The regulariser's vector twin and kernels' entry points against the definitions. */
  @Test
  void regularizerVectorTwinAndKernelsMatchTheDefinitions() {
    Kernels[] ks = {new ScalarKernels(1), new ScalarKernels(2),
        Kernels.of(new org.qlimit.util.NumericsConfig(256, 1)),
        Kernels.of(new org.qlimit.util.NumericsConfig(512, 2))};
    for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 255, 4099, 20_000}) {
      float[] h = hData(3L * n + 2, n);
      double[] dh = new double[n];
      SplittableRandom r = new SplittableRandom(n + 11);
      for (int i = 0; i < n; i++) {
        dh[i] = i % 5 == 0 ? 0.0 : (float) r.nextDouble(0, 0.3);
      }
      for (double beta : new double[] {20, 9.25, 2, 1}) {
        float ref = RoundedPow.regularizerStrict(h, n, 0.01, beta);
        float vec = RoundedPow.regularizer(h, n, 0.01, beta, 2, RoundedPowVector::regularizerSums);
        assertThat(Float.floatToRawIntBits(vec)).isEqualTo(Float.floatToRawIntBits(ref));
        float[] refGrad = seeded(n);
        RoundedPow.regularizerGradStrict(refGrad, h, dh, 0, n, 0.01, beta, 1.0);
        if (beta > 1) {
          float[] got = seeded(n);
          RoundedPowVector.regularizerGrad(got, h, dh, 0, n, 0.01, beta, 1.0);
          assertThat(bits(got)).as("vector n=%d beta=%s", n, beta).isEqualTo(bits(refGrad));
        }
        for (Kernels k : ks) {
          assertThat(Float.floatToRawIntBits(k.roundingRegularizer(h, n, 0.01, beta)))
              .isEqualTo(Float.floatToRawIntBits(ref));
          float[] got = seeded(n);
          k.roundingRegularizerGrad(got, h, dh, n, 0.01, beta, 1.0);
          assertThat(bits(got)).as("%s n=%d beta=%s", k, n, beta).isEqualTo(bits(refGrad));
        }
      }
    }
  }

  /** Accumulation targets holding values, zeros of both signs. */
  private static float[] seeded(int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i % 3 == 0 ? -0f : i % 3 == 1 ? 0f : 0.125f * i;
    }
    return x;
  }

  private static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      b[i] = Float.floatToRawIntBits(x[i]);
    }
    return b;
  }
}
