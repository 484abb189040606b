package org.qlimit.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

class TensorTest extends QuietTest {

  @Test
  void viewsShareStorageAndContiguousCopies() {
    Tensor t = Tensor.arange(6).reshape(2, 3);
    Tensor p = t.permute(1, 0);
    assertThat(p.shape()).containsExactly(3, 2);
    assertThat(p.get(2, 1)).isEqualTo(5f);
    assertThat(p.isDense()).isFalse();
    assertThat(p.contiguous().data()).containsExactly(0, 3, 1, 4, 2, 5);
    Tensor s = t.slice(1, 2);
    assertThat(s.get(0, 0)).isEqualTo(3f);
    t.set(42f, 1, 0);
    assertThat(s.get(0, 0)).isEqualTo(42f);
    assertThat(s.copy().data()).containsExactly(42, 4, 5);
  }

  @Test
  void reshapeInfersAndValidates() {
    Tensor t = Tensor.zeros(2, 3, 4);
    assertThat(t.reshape(6, -1).shape()).containsExactly(6, 4);
    assertThatThrownBy(() -> t.reshape(5, -1)).hasMessageContaining("reshape");
    assertThatThrownBy(() -> t.reshape(7, 2)).hasMessageContaining("does not match");
    assertThatThrownBy(() -> Tensor.of(new float[5], 2, 3)).hasMessageContaining("5 values");
    assertThatThrownBy(() -> t.permute(0, 0, 1)).hasMessageContaining("permutation");
    assertThatThrownBy(() -> t.get(2, 0, 0)).hasMessageContaining("out of bounds");
  }

  @Test
  void dataOfAViewIsRefused() {
    Tensor v = Tensor.zeros(4, 2).slice(1, 3);
    assertThatThrownBy(v::data).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("contiguous");
  }
}
