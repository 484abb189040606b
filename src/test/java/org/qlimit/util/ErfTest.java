package org.qlimit.util;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link Erf} against Python's math.erf (values printed by Python 3, repr precision). */
class ErfTest {
  private static final double[][] PYTHON = {
      {0.0, 0.0},
      {1e-08, 1.1283791670955126e-08},
      {0.3, 0.3286267594591274},
      {-0.7, -0.6778011938374184},
      {1.0, 0.8427007929497149},
      {2.0, 0.9953222650189527},
      {2.4999, 0.9995928300996666},
      {2.5, 0.999593047982555},
      {3.3, 0.9999969422902035},
      {-4.0, -0.9999999845827421},
      {5.9, 0.9999999999999999},
      {6.5, 1.0},
  };

  @Test
  void matchesPythonMathErf() {
    for (double[] p : PYTHON) {
      assertThat(Math.abs(Erf.erf(p[0]) - p[1])).as("erf(%s)", p[0]).isLessThan(1e-14);
    }
    assertThat(Erf.erf(Double.NaN)).isNaN();
    assertThat(Erf.erf(-0.0)).isEqualTo(-0.0);
  }

  @Test
  void isOddAndMonotoneAcrossTheBranchPoint() {
    double prev = -1;
    for (int i = -700; i <= 700; i++) {
      double x = i * 0.01;
      double e = Erf.erf(x);
      assertThat(Erf.erf(-x)).isEqualTo(-e);
      assertThat(e).as("erf(%s)", x).isGreaterThanOrEqualTo(prev);
      prev = e;
    }
  }
}
