package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.qlimit.kernel.KernelTestData.random;

import org.assertj.core.data.Offset;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.util.NumericsConfig;

/** GEMM against EJML and convolution against a naive double-precision loop, within tolerance. */
@Tag(VectorWidths.TAG)
class OracleTest {
  private static final Kernels SIMD = new SimdKernels(new NumericsConfig(256, 2));

  @Test
  void gemmMatchesEjml() {
    int[][] shapes = {{1, 1, 1}, {7, 13, 5}, {64, 300, 97}, {130, 70, 33}};
    for (int[] s : shapes) {
      int m = s[0], k = s[1], n = s[2];
      float[] a = random(1, m * k);
      float[] b = random(2, k * n);
      FMatrixRMaj c = new FMatrixRMaj(m, n);
      CommonOps_FDRM.mult(FMatrixRMaj.wrap(m, k, a), FMatrixRMaj.wrap(k, n, b), c);
      for (Kernels kern : new Kernels[] {SIMD, new ScalarKernels(1)}) {
        float[] got = new float[m * n];
        kern.gemmNN(got, a, b, m, k, n, false);
        float tol = 1e-5f * k;
        for (int i = 0; i < m * n; i++) {
          assertThat(got[i]).as("gemmNN %s [%d]", java.util.Arrays.toString(s), i)
              .isCloseTo(c.data[i], Offset.offset(tol));
        }
        // aᵀ stored as (k×m) and bᵀ stored as (n×k) give the same product.
        float[] at = new float[k * m];
        float[] bt = new float[n * k];
        for (int i = 0; i < m; i++) {
          for (int p = 0; p < k; p++) {
            at[p * m + i] = a[i * k + p];
          }
        }
        for (int p = 0; p < k; p++) {
          for (int j = 0; j < n; j++) {
            bt[j * k + p] = b[p * n + j];
          }
        }
        float[] tn = new float[m * n];
        float[] nt = new float[m * n];
        kern.gemmTN(tn, at, b, m, k, n, false);
        kern.gemmNT(nt, a, bt, m, k, n, false);
        for (int i = 0; i < m * n; i++) {
          assertThat(tn[i]).isCloseTo(c.data[i], Offset.offset(tol));
          assertThat(nt[i]).isCloseTo(c.data[i], Offset.offset(tol));
        }
      }
    }
  }

  @Test
  void convForwardMatchesNaiveDouble() {
    for (ConvShape s : ConvTwinTest.SHAPES) {
      float[] x = random(1, (int) s.inputSize());
      float[] w = random(2, (int) s.weightSize());
      float[] bias = random(3, s.cout());
      float[] y = new float[(int) s.outputSize()];
      SIMD.conv2dForward(y, x, w, bias, s);
      double[] want = naiveConv(x, w, bias, s);
      double tol = 1e-5 * (s.cinPerGroup() * s.kh() * s.kw() + 1);
      for (int i = 0; i < y.length; i++) {
        assertThat((double) y[i]).as("%s [%d]", s, i).isCloseTo(want[i], Offset.offset(tol));
      }
    }
  }

  private static double[] naiveConv(float[] x, float[] w, float[] bias, ConvShape s) {
    double[] y = new double[(int) s.outputSize()];
    int cinG = s.cinPerGroup(), coutG = s.coutPerGroup();
    for (int nb = 0; nb < s.n(); nb++) {
      for (int co = 0; co < s.cout(); co++) {
        int g = co / coutG;
        for (int oy = 0; oy < s.ho(); oy++) {
          for (int ox = 0; ox < s.wo(); ox++) {
            double acc = bias[co];
            for (int ci = 0; ci < cinG; ci++) {
              for (int ky = 0; ky < s.kh(); ky++) {
                for (int kx = 0; kx < s.kw(); kx++) {
                  int iy = oy * s.stride() - s.pad() + ky;
                  int ix = ox * s.stride() - s.pad() + kx;
                  if (iy >= 0 && iy < s.h() && ix >= 0 && ix < s.w()) {
                    acc += (double) x[((nb * s.cin() + g * cinG + ci) * s.h() + iy) * s.w() + ix]
                        * w[((co * cinG + ci) * s.kh() + ky) * s.kw() + kx];
                  }
                }
              }
            }
            y[((nb * s.cout() + co) * s.ho() + oy) * s.wo() + ox] = acc;
          }
        }
      }
    }
    return y;
  }
}
