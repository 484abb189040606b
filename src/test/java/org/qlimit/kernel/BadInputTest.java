package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.qlimit.util.NumericsConfig;

/** Wrong lengths, aliasing and negative sizes fail early with a message naming the op. */
class BadInputTest {
  private static final Kernels[] ALL = {new ScalarKernels(1),
      new SimdKernels(new NumericsConfig(256, 1))};

  @Test
  void gemm() {
    for (Kernels k : ALL) {
      float[] a = new float[6];
      float[] b = new float[6];
      assertThatThrownBy(() -> k.gemmNN(new float[3], a, b, 2, 3, 2, false))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gemmNN")
          .hasMessageContaining("c has 3 elements");
      assertThatThrownBy(() -> k.gemmNT(new float[4], new float[5], b, 2, 3, 2, false))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gemmNT")
          .hasMessageContaining("a has 5");
      assertThatThrownBy(() -> k.gemmTN(a, a, b, 2, 3, 2, false))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gemmTN")
          .hasMessageContaining("alias");
      assertThatThrownBy(() -> k.gemmNN(new float[4], a, b, -2, 3, 2, false))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
    }
  }

  @Test
  void conv() {
    ConvShape s = new ConvShape(2, 3, 5, 5, 4, 3, 3, 1, 1, 1);
    for (Kernels k : ALL) {
      float[] x = new float[(int) s.inputSize()];
      float[] w = new float[(int) s.weightSize()];
      float[] y = new float[(int) s.outputSize()];
      assertThatThrownBy(() -> k.conv2dForward(new float[5], x, w, null, s))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2dForward")
          .hasMessageContaining("y has 5");
      assertThatThrownBy(() -> k.conv2dForward(y, x, w, new float[2], s))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias");
      float[] big = new float[1000];
      assertThatThrownBy(() -> k.conv2dForward(big, big, w, null, s))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alias input x");
      assertThatThrownBy(() -> k.conv2dBackwardData(x, y, new float[1], s))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2dBackwardData")
          .hasMessageContaining("w has 1");
      assertThatThrownBy(() -> k.conv2dBackwardWeight(w, new float[4], y, w, s))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("conv2dBackwardWeight");
      assertThatThrownBy(() -> k.conv2dBackwardWeight(w, null, y, null, s))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x is null");
    }
    assertThatThrownBy(() -> new ConvShape(1, 3, 5, 5, 4, 3, 3, 1, 1, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groups");
  }

  @Test
  void linearReductionsElementwise() {
    for (Kernels k : ALL) {
      assertThatThrownBy(() -> k.linearForward(new float[6], new float[6], new float[6],
          new float[1], 2, 3, 2)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("linearForward").hasMessageContaining("bias");
      float[] d = new float[6];
      assertThatThrownBy(() -> k.linearBackwardWeight(d, null, d, new float[6], 2, 3, 2))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alias");
      assertThatThrownBy(() -> k.sum(new float[4], 2, 3))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sum");
      assertThatThrownBy(() -> k.dot(new float[4], new float[3], 4))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dot");
      assertThatThrownBy(() -> k.add(new float[2], new float[4], new float[4], 4))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("add");
      assertThatThrownBy(() -> k.relu(new float[4], new float[4], -1))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("relu");
      assertThatThrownBy(() -> k.clamp(new float[4], new float[4], 2f, 1f, 4))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("clamp");
      assertThatThrownBy(() -> k.softmax(new float[4], new float[6], 2, 3))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("softmax");
      assertThatThrownBy(() -> k.globalAvgPool(new float[2], new float[5], 2, 3))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("globalAvgPool");
    }
    assertThatThrownBy(() -> new SimdKernels(new NumericsConfig(0, 1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vectorBits");
  }

  @Test
  void vectorWidthIsRegistered() {
    Kernels.registerPreferredWidth();
    org.assertj.core.api.Assertions.assertThat(NumericsConfig.preferredVectorBits())
        .isIn(128, 256, 512);
  }
}
