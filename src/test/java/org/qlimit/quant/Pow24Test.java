package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

/**
 * The observers' fast |d|^2.4 agrees with StrictMath.pow(d, 2.4) over the whole float range.
 * The double literal 2.4 is 2.4 − 8.9e-17, so StrictMath.pow itself computes d^(12/5) times
 * d^(−8.9e-17); the allowed difference is 4 ulps plus that representation effect, |ln d|·1e-16
 * relative.
 */
class Pow24Test extends QuietTest {
  @Test
  void agreesWithStrictMathPow() {
    SplittableRandom r = new SplittableRandom(7);
    double worstUlps = 0;
    for (int i = 0; i < 200_000; i++) {
      float d = Float.intBitsToFloat(1 + r.nextInt(0x7f7fffff));
      double exact = StrictMath.pow(d, 2.4);
      if (exact == 0 || Double.isInfinite(exact)) {
        continue;
      }
      double got = Observers.pow24(d);
      double allowed = 4 * Math.ulp(exact) + Math.abs(exact * Math.log(d)) * 1e-16;
      worstUlps = Math.max(worstUlps, Math.abs(got - exact) / allowed * 4);
    }
    for (float d : new float[] {1f, 2f, 0.5f, 1e-30f, 3e30f, Float.MIN_VALUE, Float.MIN_NORMAL}) {
      double exact = StrictMath.pow(d, 2.4);
      double allowed = 4 * Math.ulp(exact) + Math.abs(exact * Math.log(d)) * 1e-16;
      worstUlps = Math.max(worstUlps, Math.abs(Observers.pow24(d) - exact) / allowed * 4);
    }
    assertThat(worstUlps).isLessThanOrEqualTo(4.0);
  }
}
