package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LabeledImagesTest {
  @Test
  void fillBatchUsesTorchFloat32Arithmetic() {
    // 2 images, 3 channels, 1x2 pixels
    byte[] px = {0, (byte) 255, 10, 20, 30, 40, 1, 2, 3, 4, 5, (byte) 128};
    LabeledImages s = new LabeledImages("t", 2, 3, 1, 2, px, new int[] {0, 1}, 2, "x");
    float[] out = new float[12];
    s.fillBatch(new int[] {1, 0}, out, Normalization.CIFAR10);
    float[] m = {0.485f, 0.456f, 0.406f};
    float[] sd = {0.229f, 0.224f, 0.225f};
    for (int b = 0; b < 2; b++) {
      int img = b == 0 ? 1 : 0;
      for (int k = 0; k < 6; k++) {
        int c = k / 2;
        float p = px[img * 6 + k] & 0xff;
        float expect = (p / 255f - m[c]) / sd[c];
        assertThat(Float.floatToRawIntBits(out[b * 6 + k]))
            .isEqualTo(Float.floatToRawIntBits(expect));
      }
    }
    assertThat(out[6 + 1]).isEqualTo((1f - 0.485f) / 0.229f);
    assertThatThrownBy(() -> s.fillBatch(new int[] {0}, new float[12], Normalization.FASHION_MNIST))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("channels");
    assertThatThrownBy(() -> s.fillBatch(new int[] {0, 1}, new float[11], Normalization.CIFAR10))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> s.fillBatch(new int[] {2}, new float[12], Normalization.CIFAR10))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void subsetAndValidation() {
    byte[] px = {1, 2, 3, 4};
    LabeledImages s = new LabeledImages("t", 4, 1, 1, 1, px, new int[] {0, 1, 2, 3}, 4, "sha");
    LabeledImages sub = s.subset(1, 3);
    assertThat(sub.pixels()).containsExactly(2, 3);
    assertThat(sub.labels()).containsExactly(1, 2);
    assertThat(sub.name()).isEqualTo("t[1:3]");
    assertThat(sub.sourceSha256()).isEqualTo("sha");
    assertThatThrownBy(() -> s.subset(3, 5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new LabeledImages("t", 1, 1, 1, 1, new byte[1], new int[] {4}, 4, "x"))
        .hasMessageContaining("label 4");
    assertThatThrownBy(() -> new LabeledImages("t", 2, 1, 1, 1, new byte[1], new int[2], 4, "x"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Normalization(new float[] {0f}, new float[] {0f}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
