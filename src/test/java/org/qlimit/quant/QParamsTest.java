package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class QParamsTest {

  @Test
  void levelBounds() {
    assertThat(QScheme.asymmetric(4).qmin()).isEqualTo(0);
    assertThat(QScheme.asymmetric(4).qmax()).isEqualTo(15);
    assertThat(QScheme.symmetric(4).qmin()).isEqualTo(-8);
    assertThat(QScheme.symmetric(4).qmax()).isEqualTo(7);
    assertThat(QScheme.asymmetric(2).qmax()).isEqualTo(3);
    assertThat(QScheme.symmetric(8).qmin()).isEqualTo(-128);
    assertThat(QScheme.asymmetric(16).qmax()).isEqualTo(65535);
    assertThat(QScheme.symmetric(3).steps()).isEqualTo(7);
    assertThatThrownBy(() -> QScheme.asymmetric(1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QScheme.asymmetric(17)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void twoSidedRange() {
    // s = (2 − (−1)) / 3 = 1, z = −⌊−1/1⌉ = 1
    QParams p = QParams.fromRange(-1f, 2f, QScheme.asymmetric(2));
    assertThat(p.scale(0)).isEqualTo(1f);
    assertThat(p.zeroPoint(0)).isEqualTo(1f);
    // s = 1.5 / 3 = 0.5, lo/s = −1.5 rounds half-even to −2, so z = 2
    QParams t = QParams.fromRange(-0.75f, 0.75f, QScheme.asymmetric(2));
    assertThat(t.scale(0)).isEqualTo(0.5f);
    assertThat(t.zeroPoint(0)).isEqualTo(2f);
    // s = 0.5/3 in float32; lo/s = −2.5 (in float) rounds half-even to −2
    QParams u = QParams.fromRange(-1.25f, 0.25f, QScheme.asymmetric(2));
    assertThat(u.scale(0)).isEqualTo(1.5f / 3f);
    assertThat(u.zeroPoint(0)).isEqualTo((float) -Math.rint(-1.25f / (1.5f / 3f)));
  }

  @Test
  void oneSidedRangesIncludeZero() {
    QParams pos = QParams.fromRange(0.5f, 3f, QScheme.asymmetric(2));
    assertThat(pos.scale(0)).isEqualTo(1f);
    assertThat(pos.zeroPoint(0)).isEqualTo(0f);
    QParams neg = QParams.fromRange(-3f, -1f, QScheme.asymmetric(2));
    assertThat(neg.scale(0)).isEqualTo(1f);
    assertThat(neg.zeroPoint(0)).isEqualTo(3f);
  }

  @Test
  void symmetricRange() {
    // absmax 3, s = 3 / (7/2)
    QParams p = QParams.fromRange(-1f, 3f, QScheme.symmetric(3));
    assertThat(p.scale(0)).isEqualTo(3f / 3.5f);
    assertThat(p.zeroPoint(0)).isEqualTo(0f);
    QParams q = QParams.fromRange(-4f, 1f, QScheme.symmetric(2));
    assertThat(q.scale(0)).isEqualTo(4f / 1.5f);
  }

  @Test
  void degenerateRangeIsFloored() {
    QParams p = QParams.fromRange(0f, 0f, QScheme.asymmetric(4));
    assertThat(p.scale(0)).isEqualTo(1e-8f);
    assertThat(p.zeroPoint(0)).isEqualTo(0f);
  }

  @Test
  void perChannel() {
    QParams p =
        QParams.fromRange(new float[] {-1f, 0f}, new float[] {2f, 1.5f}, QScheme.asymmetric(2));
    assertThat(p.channels()).isEqualTo(2);
    assertThat(p.scale()).containsExactly(1f, 0.5f);
    assertThat(p.zeroPoint()).containsExactly(1f, 0f);
  }

  @Test
  void validation() {
    QScheme a = QScheme.asymmetric(2);
    assertThatThrownBy(() -> QParams.perTensor(1f, 0.5f, a))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QParams.perTensor(1f, 4f, a))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QParams.perTensor(0f, 0f, a))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QParams.perTensor(1f, 1f, QScheme.symmetric(2)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> QParams.fromRange(1f, 0f, a))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void immutable() {
    float[] s = {1f};
    QParams p = new QParams(s, new float[] {0f}, QScheme.asymmetric(2));
    s[0] = 2f;
    p.scale()[0] = 3f;
    assertThat(p.scale(0)).isEqualTo(1f);
    assertThat(p).isEqualTo(QParams.perTensor(1f, 0f, QScheme.asymmetric(2)));
  }
}
