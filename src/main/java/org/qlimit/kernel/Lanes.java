package org.qlimit.kernel;

import org.qlimit.util.NumericsConfig;

/**
 * The fixed combination order of the 16 logical lanes used by every reduction in qlimit.
 *
 * <p>Contract of a 16-lane reduction over {@code len} elements: lane {@code l} accumulates the
 * elements {@code i ≡ l (mod 16)} with {@code i < len - len % 16}, in increasing {@code i}; the 16
 * lane values are then combined by {@link #sumInOrder}; the remaining {@code len % 16} tail elements
 * are folded into that total one by one, in increasing index. A 512-bit accumulator, two 256-bit
 * ones, four 128-bit ones or 16 scalar variables all hold the same 16 lanes, so the result does not
 * depend on the vector width.
 */
public final class Lanes {
  private Lanes() {}

  /** Number of logical lanes (16). */
  public static final int N = NumericsConfig.LOGICAL_LANES;

  /**
   * Pairwise tree over 16 lanes: {@code t[i] = l[i] + l[i+8]} (i &lt; 8), then {@code t[i] + t[i+4]}
   * (i &lt; 4), then {@code t[i] + t[i+2]}, then {@code t[0] + t[1]}.
   *
   * @param lanes 16 lane values. Not modified.
   * @return the combined sum
   */
  public static float sumInOrder(float[] lanes) {
    if (lanes.length != N) {
      throw new IllegalArgumentException("Lanes.sumInOrder: needs 16 lanes, got " + lanes.length);
    }
    float s0 = lanes[0] + lanes[8];
    float s1 = lanes[1] + lanes[9];
    float s2 = lanes[2] + lanes[10];
    float s3 = lanes[3] + lanes[11];
    float s4 = lanes[4] + lanes[12];
    float s5 = lanes[5] + lanes[13];
    float s6 = lanes[6] + lanes[14];
    float s7 = lanes[7] + lanes[15];
    float t0 = s0 + s4;
    float t1 = s1 + s5;
    float t2 = s2 + s6;
    float t3 = s3 + s7;
    float u0 = t0 + t2;
    float u1 = t1 + t3;
    return u0 + u1;
  }
}
