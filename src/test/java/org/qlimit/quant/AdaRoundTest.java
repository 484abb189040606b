package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AdaRoundTest {
  private static final QScheme A4 = QScheme.asymmetric(4);

  @Test
  void rectifiedSigmoidEnds() {
    assertThat(AdaRound.h(0f)).isCloseTo(0.5f, within(1e-7f));
    assertThat(AdaRound.h(20f)).isEqualTo(1f);
    assertThat(AdaRound.h(-20f)).isEqualTo(0f);
    assertThat(AdaRound.dh(20f)).isZero();
    assertThat(AdaRound.dh(-20f)).isZero();
    assertThat(AdaRound.dh(0f)).isCloseTo(1.2 * 0.25, within(1e-7));
  }

  @Test
  void initAlphaRecoversFraction() {
    SplittableRandom rng = new SplittableRandom(1);
    int ch = 3;
    int cs = 50;
    float[] w = new float[ch * cs];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (rng.nextGaussian() * 0.3);
    }
    QParams p = Observers.minMax(w, ch, A4);
    float[] alpha = new float[w.length];
    AdaRound.initAlpha(alpha, w, p, cs);
    for (int i = 0; i < w.length; i++) {
      float v = w[i] / p.scale(i / cs);
      float r = v - (float) Math.floor(v);
      assertThat(AdaRound.h(alpha[i])).as("element %d", i).isCloseTo(r, within(1e-6f));
    }
    // soft weights at initialisation reproduce w where the outer clamp is inactive (the range
    // ends are not on the grid, as z is rounded, so elements near min or max may be clamped)
    float[] soft = new float[w.length];
    AdaRound.softWeight(soft, w, alpha, p, cs);
    int checked = 0;
    for (int i = 0; i < w.length; i++) {
      int c = i / cs;
      double u = w[i] / p.scale(c) + p.zeroPoint(c);
      if (u >= A4.qmin() && u <= A4.qmax()) {
        assertThat(soft[i]).as("element %d", i).isCloseTo(w[i], within(1e-6f));
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(w.length - 2 * ch);
  }

  @Test
  void hardRoundingAfterInitIsNearest() {
    SplittableRandom rng = new SplittableRandom(2);
    int n = 400;
    float[] w = new float[n];
    for (int i = 0; i < n; i++) {
      w[i] = (float) (rng.nextDouble() * 3 - 1);
    }
    QParams p = QParams.perTensor(0.13f, 6f, A4);
    float[] alpha = new float[n];
    AdaRound.initAlpha(alpha, w, p, n);
    float[] hard = new float[n];
    AdaRound.hardWeight(hard, w, alpha, p, n);
    float[] nearest = new float[n];
    FakeQuant.fakeQuant(nearest, w, p, n);
    int checked = 0;
    for (int i = 0; i < n; i++) {
      float v = w[i] / 0.13f;
      if (Math.abs(v - Math.floor(v) - 0.5) > 1e-3) {
        assertThat(hard[i]).as("element %d", i).isEqualTo(nearest[i]);
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(n - 5);
  }

  @Test
  void softWeightHandCase() {
    // s = 0.5, z = 1, 2 bits: w = 0.3 → ⌊0.6⌋ = 0; α = 0 → h = 0.5 → (0 + 0.5 + 1 − 1)·0.5
    QParams p = QParams.perTensor(0.5f, 1f, QScheme.asymmetric(2));
    float[] w = {0.3f, 5f, -5f};
    float[] a = {0f, 0f, 0f};
    float[] out = new float[3];
    AdaRound.softWeight(out, w, a, p, 3);
    assertThat(out).containsExactly(0.25f, 1f, -0.5f);
    AdaRound.hardWeight(out, w, a, p, 3);
    assertThat(out).containsExactly(0.5f, 1f, -0.5f);
  }

  /** Central differences in double of a double twin of Ŵ(α), including both clamps. */
  @Test
  void softWeightGradientMatchesFiniteDifferences() {
    QScheme sch = QScheme.asymmetric(3);
    QParams p = QParams.perTensor(0.25f, 2f, sch);
    // inside; outer clamp above and below; rectification clamped both ways; general points
    float[] w = {0.1f, 3f, -3f, 0.3f, 0.3f, 0.62f, -0.4f, 0.9f};
    float[] a = {0.3f, 0.2f, -0.2f, 9f, -9f, -1.7f, 2.1f, 0.05f};
    float[] dW = {1f, 1f, 1f, 1f, 1f, -2f, 0.5f, 3f};
    float[] da = new float[w.length];
    AdaRound.softWeightBackward(da, dW, w, a, p, w.length);
    double h = 1e-5;
    for (int i = 0; i < w.length; i++) {
      double fd = (softD(w[i], a[i] + h, p, sch) - softD(w[i], a[i] - h, p, sch)) / (2 * h);
      assertThat((double) da[i]).as("element %d", i).isCloseTo(dW[i] * fd, within(1e-5));
    }
    assertThat(da[1]).isZero();
    assertThat(da[2]).isZero();
    assertThat(da[3]).isZero();
    assertThat(da[4]).isZero();
    assertThat(da[0]).isNotZero();
  }

  private static double hD(double a) {
    double sig = 1.0 / (1.0 + Math.exp(-a));
    return Math.min(Math.max(sig * 1.2 - 0.1, 0), 1);
  }

  private static double softD(float w, double a, QParams p, QScheme sch) {
    double s = p.scale(0);
    double z = p.zeroPoint(0);
    double u = Math.floor(w / p.scale(0)) + hD(a) + z;
    return (Math.min(Math.max(u, sch.qmin()), sch.qmax()) - z) * s;
  }

  @Test
  void regulariserValue() {
    // h = ½ contributes 1; h = 0 and h = 1 contribute 0
    float[] a = {0f, 20f, -20f};
    assertThat(AdaRound.regularizer(a, 3, 0.01, 20)).isCloseTo(0.01, within(1e-9));
    // h(α) = 0.8 → |2h − 1| = 0.6 → 1 − 0.6^2 = 0.64
    float[] b = new float[1];
    AdaRound.initAlpha(b, new float[] {0.8f}, QParams.perTensor(1f, 0f, A4), 1);
    double hv = AdaRound.h(b[0]);
    assertThat(AdaRound.regularizer(b, 1, 1.0, 2)).isCloseTo(1 - Math.pow(2 * hv - 1, 2), within(1e-12));
    assertThat(AdaRound.regularizer(b, 1, 1.0, 2)).isCloseTo(0.64, within(1e-5));
  }

  @Test
  void regulariserGradientMatchesFiniteDifferences() {
    float[] a = {0.3f, -0.8f, 1.7f, -2.2f, 0.01f, 9f, 0f};
    double lambda = 0.01;
    for (double beta : new double[] {20, 11, 2}) {
      float[] da = new float[a.length];
      AdaRound.regularizerBackward(da, a, a.length, lambda, beta, 1.0);
      double h = 1e-5;
      for (int i = 0; i < a.length; i++) {
        double fd = (regD(a[i] + h, lambda, beta) - regD(a[i] - h, lambda, beta)) / (2 * h);
        assertThat((double) da[i]).as("beta %s element %d", beta, i)
            .isCloseTo(fd, within(1e-6 + 1e-4 * Math.abs(fd)));
      }
      assertThat(da[5]).isZero(); // rectification clamps at 1
      assertThat(da[0]).isNegative(); // h > ½: the regulariser pushes α up (gradient descent)
      assertThat(da[1]).isPositive();
    }
    float[] acc = {1f};
    AdaRound.regularizerBackward(acc, new float[] {0.3f}, 1, lambda, 2, 3.0);
    float[] one = {0f};
    AdaRound.regularizerBackward(one, new float[] {0.3f}, 1, lambda, 2, 1.0);
    assertThat(acc[0]).isCloseTo(1f + 3f * one[0], within(1e-7f));
  }

  private static double regD(double a, double lambda, double beta) {
    return lambda * (1 - Math.pow(Math.abs(2 * hD(a) - 1), beta));
  }

  @Test
  void betaScheduleBreakpoints() {
    long t = 2000;
    assertThat(AdaRound.regularizerActive(1, t, 0.2)).isFalse();
    assertThat(AdaRound.regularizerActive(399, t, 0.2)).isFalse();
    assertThat(AdaRound.regularizerActive(400, t, 0.2)).isTrue();
    assertThat(AdaRound.beta(1, t)).isEqualTo(20.0);
    assertThat(AdaRound.beta(399, t)).isEqualTo(20.0);
    assertThat(AdaRound.beta(400, t)).isEqualTo(20.0);
    assertThat(AdaRound.beta(401, t)).isCloseTo(20 - 18.0 / 1600, within(1e-12));
    assertThat(AdaRound.beta(1200, t)).isCloseTo(11.0, within(1e-12));
    assertThat(AdaRound.beta(2000, t)).isEqualTo(2.0);
    assertThat(AdaRound.beta(2500, t)).isEqualTo(2.0);
    assertThat(AdaRound.regularizerActive(3999, 20000, 0.2)).isFalse();
    assertThat(AdaRound.regularizerActive(4000, 20000, 0.2)).isTrue();
    assertThat(AdaRound.beta(20000, 20000)).isEqualTo(2.0);
  }
}
