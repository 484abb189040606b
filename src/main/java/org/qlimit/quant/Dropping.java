package org.qlimit.quant;

import org.qlimit.util.Check;

/**
 * QDrop's dropping settings for one reconstruction step: which unit is being reconstructed, the
 * iteration, the run seed and the keep probability (the reference's {@code drop_prob}: the
 * probability that an element keeps its quantized value; 1 = never drop).
 *
 * @param seed run seed
 * @param unit index of the unit being reconstructed (masks apply only inside it)
 * @param step iteration, from 1
 * @param prob keep probability in [0, 1]
 */
public record Dropping(long seed, int unit, long step, float prob) {

  public Dropping {
    Check.arg(prob >= 0f && prob <= 1f, "keep probability must be in [0, 1], got %s", prob);
  }

  /** Mask parameters for mixing point {@code point} of the unit (0 = the unit's input). */
  public Site site(int point) {
    return new Site(seed, QDropMask.site(unit, point), step, prob);
  }

  /** Resolved mask counters for one mixing point. */
  public record Site(long seed, long site, long step, float prob) {}
}
