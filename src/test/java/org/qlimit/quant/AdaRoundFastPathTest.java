package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

/** The precomputed-h path of {@link AdaRound} is bit-identical to the per-element definitions. */
class AdaRoundFastPathTest extends QuietTest {

  @Test
  void fastPathMatchesDefinitionsBitForBit() {
    for (int n : new int[] {1, 7, 17, 255, 4099, 20_000}) {
      for (int threads : new int[] {1, 2, 4}) {
        check(n, threads);
      }
    }
  }

  private static void check(int n, int threads) {
    SplittableRandom rng = new SplittableRandom(n * 31L + threads);
    int channels = n % 2 == 0 ? 2 : 1;
    int cs = n / channels;
    float[] w = new float[n];
    float[] alpha = new float[n];
    float[] dW = new float[n];
    float[] lo = new float[channels];
    float[] hi = new float[channels];
    for (int c = 0; c < channels; c++) {
      lo[c] = -0.3f - c;
      hi[c] = 0.4f + c;
    }
    for (int i = 0; i < n; i++) {
      w[i] = (float) rng.nextDouble(-1.5, 1.5);
      // include saturated rectification (|α| large), exact zeros and h = 1/2
      alpha[i] = switch (i % 7) {
        case 0 -> 0f;
        case 1 -> 12f;
        case 2 -> -12f;
        default -> (float) rng.nextDouble(-4, 4);
      };
      dW[i] = (float) rng.nextGaussian();
    }
    QParams p = QParams.fromRange(lo, hi, QScheme.asymmetric(2));
    float[] h = new float[n];
    double[] dh = new double[n];
    AdaRound.rectify(h, dh, alpha, n, threads);
    for (int i = 0; i < n; i++) {
      assertThat(Float.floatToRawIntBits(h[i])).isEqualTo(Float.floatToRawIntBits(AdaRound.h(alpha[i])));
      assertThat(Double.doubleToRawLongBits(dh[i]))
          .isEqualTo(Double.doubleToRawLongBits(AdaRound.dh(alpha[i])));
    }
    float[] ref = new float[n];
    float[] fast = new float[n];
    AdaRound.softWeight(ref, w, alpha, p, cs);
    AdaRound.softWeightH(fast, w, h, p, cs);
    assertThat(bits(fast)).isEqualTo(bits(ref));

    float[] daRef = new float[n];
    float[] daFast = new float[n];
    AdaRound.softWeightBackward(daRef, dW, w, alpha, p, cs);
    AdaRound.softWeightBackwardH(daFast, dW, w, h, dh, p, cs);
    assertThat(bits(daFast)).isEqualTo(bits(daRef));

    for (double beta : new double[] {20, 11.3, 2}) {
      double r = AdaRound.regularizer(alpha, n, 0.01, beta);
      double f = AdaRound.regularizerH(h, n, 0.01, beta, new double[n], threads);
      assertThat(Double.doubleToRawLongBits(f)).isEqualTo(Double.doubleToRawLongBits(r));
      AdaRound.regularizerBackward(daRef, alpha, n, 0.01, beta, 0.7);
      AdaRound.regularizerBackwardH(daFast, h, dh, n, 0.01, beta, 0.7, threads);
      assertThat(bits(daFast)).isEqualTo(bits(daRef));
    }
  }

  private static int[] bits(float[] x) {
    int[] b = new int[x.length];
    for (int i = 0; i < x.length; i++) {
      b[i] = Float.floatToRawIntBits(x[i]);
    }
    return b;
  }
}
