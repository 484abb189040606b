package org.qlimit.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

class CounterRngTest extends QuietTest {

  /** The hoisted prefix gives the same bits as the four-round hash, for awkward counters too. */
  @Test
  void prefixThenIndexEqualsFullHash() {
    long[] seeds = {0L, 1L, 1005L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 0x9E3779B97F4A7C15L};
    long[] counters = {0L, 1L, 2L, 17L, 255L, 4099L, -1L, Long.MAX_VALUE, 1L << 40};
    for (long seed : seeds) {
      for (long stream : counters) {
        for (long step : counters) {
          long pre = CounterRng.prefix(seed, stream, step);
          for (long i = 0; i < 300; i++) {
            assertThat(CounterRng.bitsAt(pre, i)).isEqualTo(reference(seed, stream, step, i));
            assertThat(Float.floatToRawIntBits(CounterRng.uniformAt(pre, i)))
                .isEqualTo(Float.floatToRawIntBits(CounterRng.uniform(seed, stream, step, i)));
          }
          for (long i : counters) {
            assertThat(CounterRng.bitsAt(pre, i)).isEqualTo(reference(seed, stream, step, i));
          }
        }
      }
    }
  }

  /** The original definition of bits, written out (four SplitMix64 rounds). */
  private static long reference(long seed, long stream, long step, long index) {
    long g = 0x9E3779B97F4A7C15L;
    long h = CounterRng.mix64(seed + g);
    h = CounterRng.mix64(h ^ (stream + g * 2));
    h = CounterRng.mix64(h ^ (step + g * 3));
    return CounterRng.mix64(h ^ (index + g * 4));
  }
}
