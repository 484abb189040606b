package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FakeQuantTest {
  private static final QScheme A4 = QScheme.asymmetric(4);
  private static final QScheme A2 = QScheme.asymmetric(2);

  @Test
  void tiesRoundHalfToEven() {
    QParams p = QParams.perTensor(1f, 2f, A4);
    float[] x = {0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f};
    int[] q = new int[x.length];
    FakeQuant.quantize(q, x, p, x.length);
    // ⌊x⌉ = 0, 2, 2, 4, −0, −2, −2; + z = 2
    assertThat(q).containsExactly(2, 4, 4, 6, 2, 0, 0);
    float[] y = new float[x.length];
    FakeQuant.fakeQuant(y, x, p, x.length);
    assertThat(y).containsExactly(0f, 2f, 2f, 4f, 0f, -2f, -2f);
  }

  @Test
  void tiesWithFractionalScale() {
    QParams p = QParams.perTensor(0.5f, 0f, A4);
    float[] x = {0.25f, 0.75f, 1.25f};
    float[] y = new float[3];
    FakeQuant.fakeQuant(y, x, p, 3);
    assertThat(y).containsExactly(0f, 1f, 1f); // 0.5 → 0, 1.5 → 2, 2.5 → 2
  }

  @Test
  void clampsAtRangeEnds() {
    QParams p = QParams.perTensor(0.5f, 1f, A2);
    float[] x = {5f, -5f, 1f, -0.5f, -0.75f, 1.0001f};
    float[] q = new float[x.length];
    FakeQuant.quantize(q, x, p, x.length);
    assertThat(q).containsExactly(3f, 0f, 3f, 0f, 0f, 3f);
    float[] y = new float[x.length];
    FakeQuant.fakeQuant(y, x, p, x.length);
    assertThat(y).containsExactly(1f, -0.5f, 1f, -0.5f, -0.5f, 1f);
    // the straight-through gradient passes where the clamp is inactive:
    // u = 11, −9, 3, 0, ⌊−1.5⌉+1 = −1, ⌊2.0002⌉+1 = 3
    float[] dx = new float[x.length];
    float[] ones = {1f, 1f, 1f, 1f, 1f, 1f};
    FakeQuant.backward(dx, null, ones, x, p, x.length, 1f);
    assertThat(dx).containsExactly(0f, 0f, 1f, 1f, 0f, 1f);
  }

  @Test
  void perChannelUsesAxisZero() {
    QParams p = new QParams(new float[] {1f, 0.25f}, new float[] {0f, 2f}, A2);
    float[] x = {1.2f, 7f, 0.3f, -0.6f};
    float[] y = new float[4];
    FakeQuant.fakeQuant(y, x, p, 2);
    // channel 0: ⌊1.2⌉ = 1, ⌊7⌉ = 7 → 3; channel 1: ⌊1.2⌉+2 = 3 → 0.25, ⌊−2.4⌉+2 = 0 → −0.5
    assertThat(y).containsExactly(1f, 3f, 0.25f, -0.5f);
    float[] inPlace = x.clone();
    FakeQuant.fakeQuant(inPlace, inPlace, p, 2);
    assertThat(inPlace).containsExactly(y);
  }

  @Test
  void symmetricGrid() {
    QParams p = QParams.perTensor(1f, 0f, QScheme.symmetric(2));
    float[] x = {-3f, -2f, 1f, 2f};
    float[] y = new float[4];
    FakeQuant.fakeQuant(y, x, p, 4);
    assertThat(y).containsExactly(-2f, -2f, 1f, 1f);
  }

  @Test
  void backwardHandComputed() {
    QParams p = QParams.perTensor(0.5f, 1f, A2);
    // u: ⌊0.3/0.5⌉ + 1 = 2 (inside), 5 → 11 (above), −5 → −9 (below)
    float[] x = {0.3f, 5f, -5f};
    float[] dy = {1f, 2f, 3f};
    float[] dx = {10f, 10f, 10f};
    float[] ds = {1f};
    FakeQuant.backward(dx, ds, dy, x, p, 3, 1f);
    assertThat(dx).containsExactly(11f, 10f, 10f);
    // inside: (2 − 1) − 0.6 = 0.4; above: 3 − 1 = 2; below: 0 − 1 = −1
    double expected = 1 * (1.0 - 0.3f / 0.5) + 2 * 2.0 + 3 * -1.0;
    assertThat(ds[0]).isCloseTo((float) (1 + expected), within(1e-6f));
    float[] ds2 = {0f};
    FakeQuant.backward(null, ds2, dy, x, p, 3, 0.25f);
    assertThat(ds2[0]).isCloseTo((float) (0.25 * expected), within(1e-6f));
  }

  /**
   * LSQ's ∂x̂/∂s is the derivative of the surrogate in which ⌊·⌉ is replaced by the identity
   * around s0: x̃(s) = (clamp(R + x/s − x/s0 + z, qmin, qmax) − z)·s, R = ⌊x/s0⌉. Central
   * differences on that surrogate, in double, at points away from clamp boundaries.
   */
  @Test
  void scaleGradientMatchesCentralDifferences() {
    SplittableRandom rng = new SplittableRandom(7);
    QScheme sch = QScheme.asymmetric(3);
    int n = 64;
    float[] x = new float[n];
    float[] dy = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rng.nextDouble() * 6 - 2.5);
      dy[i] = (float) (rng.nextDouble() * 2 - 1);
    }
    float s0 = 0.37f;
    float z = 3f;
    QParams p = QParams.perTensor(s0, z, sch);
    double[] terms = terms(x, p);
    double h = 1e-6;
    double fd = 0;
    for (int i = 0; i < n; i++) {
      double r = Math.rint(x[i] / s0);
      double u = r + z;
      if (Math.abs(u - sch.qmin()) < 0.01 || Math.abs(u - sch.qmax()) < 0.01) {
        continue; // near a clamp boundary on either side: skip, gradient is one-sided there
      }
      double plus = surrogate(x[i], s0 + h, s0, r, z, sch);
      double minus = surrogate(x[i], s0 - h, s0, r, z, sch);
      double d = (plus - minus) / (2 * h);
      assertThat(terms[i]).as("element %d", i).isCloseTo(d, within(1e-5));
      fd += dy[i] * d;
    }
    assertThat(fd).isNotZero();
  }

  /** Per-element ∂x̂/∂s of a per-tensor quantizer (the LSQ terms with dy = 1). */
  private static double[] terms(float[] x, QParams p) {
    float[] ones = new float[x.length];
    java.util.Arrays.fill(ones, 1f);
    double[] t = new double[x.length];
    FakeQuant.backwardRange(null, t, ones, x, p.scale(0), p.zeroPoint(0), p.scheme().qmin(),
        p.scheme().qmax(), 0, x.length);
    return t;
  }

  private static double surrogate(float x, double s, float s0, double r, float z, QScheme sch) {
    double u = r + x / s - (double) x / s0 + z;
    double q = Math.min(Math.max(u, sch.qmin()), sch.qmax());
    return (q - z) * s;
  }

  /** In the clamped region the fake-quantized value is (qmax − z)·s: its true derivative. */
  @Test
  void clampedScaleGradientIsExact() {
    QParams p = QParams.perTensor(0.5f, 1f, A2);
    float[] x = {9f, -9f};
    double[] t = terms(x, p);
    double h = 1e-3;
    for (int i = 0; i < 2; i++) {
      float[] yp = new float[1];
      float[] ym = new float[1];
      FakeQuant.fakeQuant(yp, new float[] {x[i]}, QParams.perTensor(0.5f + (float) h, 1f, A2), 1);
      FakeQuant.fakeQuant(ym, new float[] {x[i]}, QParams.perTensor(0.5f - (float) h, 1f, A2), 1);
      assertThat(t[i]).isCloseTo((yp[0] - ym[0]) / (2 * h), within(1e-4));
    }
  }

  @Test
  void perChannelBackwardReducesPerChannel() {
    QParams p = new QParams(new float[] {1f, 0.5f}, new float[] {1f, 0f}, A2);
    float[] x = {0.2f, 0.9f, 0.2f, 9f};
    float[] dy = {1f, 1f, 1f, 1f};
    float[] ds = new float[2];
    FakeQuant.backward(null, ds, dy, x, p, 2, 1f);
    // ch0: (0 − 0.2) + (1 − 0.9); ch1: (0 − 0.4) + (3 − 0)
    assertThat(ds[0]).isCloseTo(-0.2f + 0.1f, within(1e-6f));
    assertThat(ds[1]).isCloseTo(-0.4f + 3f, within(1e-6f));
  }

  @Test
  void gradScale() {
    assertThat(FakeQuant.lsqGradScale(100, 15)).isEqualTo((float) (1 / Math.sqrt(1500.0)));
    assertThat(FakeQuant.sanitizeLearnedScale(-0.5f)).isEqualTo(0.5f);
    assertThat(FakeQuant.sanitizeLearnedScale(0f)).isEqualTo(Math.ulp(1f));
  }
}
