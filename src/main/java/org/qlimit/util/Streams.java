package org.qlimit.util;

import java.util.SplittableRandom;

/**
 * The named random streams of a run. Every consumer derives its own generator from the run seed
 * and its stream id, so adding or removing one consumer never shifts another's numbers.
 */
public enum Streams {
  CALIBRATION_SAMPLE(1),
  MINIBATCH(2),
  QDROP_MASK(3),
  AUGMENTATION(4),
  WEIGHT_INIT(5),
  TRAIN_SHUFFLE(6),
  GENETIC_SEARCH(7),
  FLATNESS_PROBE(8),
  TEST(99);

  private final long id;

  Streams(long id) {
    this.id = id;
  }

  public long id() {
    return id;
  }

  /** A fresh generator for this stream under the given run seed (and optional sub-stream). */
  public SplittableRandom random(long seed, long sub) {
    return new SplittableRandom(CounterRng.bits(seed, id, sub, 0x51AB1EL));
  }

  public SplittableRandom random(long seed) {
    return random(seed, 0);
  }
}
