package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CalibrationSamplerTest {
  static LabeledImages set(int n) {
    return new LabeledImages("toy", n, 1, 2, 2, new byte[n * 4], new int[n], 10, "x");
  }

  @Test
  void firstNIsPrefix() {
    assertThat(CalibrationSampler.firstN(set(10), 4)).containsExactly(0, 1, 2, 3);
    assertThat(CalibrationSampler.firstN(set(10), 10)).hasSize(10);
  }

  @Test
  void seededIsReproducibleDistinctAndSeedDependent() {
    LabeledImages s = set(1000);
    int[] a = CalibrationSampler.seeded(s, 128, 42);
    assertThat(a).isEqualTo(CalibrationSampler.seeded(s, 128, 42));
    assertThat(Arrays.stream(a).distinct().count()).isEqualTo(128);
    assertThat(Arrays.stream(a).allMatch(i -> i >= 0 && i < 1000)).isTrue();
    assertThat(a).isNotEqualTo(CalibrationSampler.seeded(s, 128, 43));
    int[] all = CalibrationSampler.seeded(s, 1000, 1);
    assertThat(Arrays.stream(all).sorted().toArray())
        .isEqualTo(CalibrationSampler.firstN(s, 1000));
  }

  @Test
  void tooLargeOrNonPositiveIsAnError() {
    assertThatThrownBy(() -> CalibrationSampler.firstN(set(10), 11))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("11")
        .hasMessageContaining("toy");
    assertThatThrownBy(() -> CalibrationSampler.seeded(set(10), 11, 1))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CalibrationSampler.firstN(set(10), 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
