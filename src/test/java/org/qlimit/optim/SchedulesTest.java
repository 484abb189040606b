package org.qlimit.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The one cosine schedule, as reconstruction (per iteration) and training (per step) use it. */
class SchedulesTest {

  @Test
  void cosineAnnealsToZero() {
    assertThat(Schedules.cosine(4e-4, 0, 500)).isEqualTo(4e-4);
    assertThat(Schedules.cosine(4e-4, 250, 500)).isCloseTo(2e-4, within(1e-18));
    assertThat(Schedules.cosine(4e-4, 500, 500)).isZero();
    assertThat(Schedules.cosine(4e-4, 501, 500)).isZero();
  }

  @Test
  void iterationTUsesTheValueAfterTMinusOneSteps() {
    assertThat(Schedules.cosineForIteration(4e-4, 1, 500)).isEqualTo(4e-4);
    assertThat(Schedules.cosineForIteration(4e-4, 500, 500))
        .isCloseTo(4e-4 * (1 + Math.cos(Math.PI * 499 / 500)) / 2, within(1e-18));
  }

  @Test
  void badArgumentsAreErrors() {
    assertThatThrownBy(() -> Schedules.cosine(0.1, -1, 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("e=-1");
    assertThatThrownBy(() -> Schedules.cosine(0.1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("T=0");
    assertThatThrownBy(() -> Schedules.cosineForIteration(0.1, 0, 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("count from 1");
  }
}
