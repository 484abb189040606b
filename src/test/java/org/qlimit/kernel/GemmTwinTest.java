package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.qlimit.kernel.KernelTestData.bits;
import static org.qlimit.kernel.KernelTestData.random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** SIMD GEMM (all transposes, accumulate on/off) against the scalar reference, bit for bit. */
@Tag(VectorWidths.TAG)
class GemmTwinTest {
  private static final Kernels REF = new ScalarKernels(1);

  /**
   * {m, k, n}: edges of the 6-row tile, of the 2-vector column tile, of KC=256, NC=512, m=48, and
   * the convolution weight-gradient shapes whose column panels are split evenly across threads
   * (16×144, 64×576).
   */
  private static final int[][] SHAPES = {
      {0, 3, 4}, {3, 0, 5}, {1, 1, 1}, {1, 7, 3}, {5, 8, 7}, {6, 16, 32}, {7, 17, 33},
      {13, 29, 15}, {48, 31, 64}, {49, 9, 65}, {17, 300, 41}, {61, 257, 530}, {3, 5, 1100},
      {16, 40, 144}, {64, 21, 576},
  };

  interface Gemm {
    void run(Kernels k, float[] c, float[] a, float[] b, int m, int kk, int n, boolean acc);
  }

  private static void check(String name, Gemm g) {
    for (int[] s : SHAPES) {
      int m = s[0], k = s[1], n = s[2];
      float[] a = random(1, m * k);
      float[] b = random(2, k * n);
      float[] c0 = random(3, m * n);
      for (boolean acc : new boolean[] {false, true}) {
        float[] want = c0.clone();
        g.run(REF, want, a, b, m, k, n, acc);
        for (Kernels kern : KernelTestData.simdVariants()) {
          float[] got = c0.clone();
          g.run(kern, got, a, b, m, k, n, acc);
          assertThat(bits(got))
              .as("%s m=%d k=%d n=%d acc=%s %s", name, m, k, n, acc, kern.config())
              .isEqualTo(bits(want));
        }
      }
    }
  }

  @Test
  void nn() {
    check("gemmNN", Kernels::gemmNN);
  }

  @Test
  void nt() {
    check("gemmNT", Kernels::gemmNT);
  }

  @Test
  void tn() {
    check("gemmTN", Kernels::gemmTN);
  }

  @Test
  void scalarThreadsDoNotChangeBits() {
    float[] a = random(4, 37 * 50);
    float[] b = random(5, 50 * 29);
    float[] c1 = new float[37 * 29];
    float[] c4 = new float[37 * 29];
    new ScalarKernels(1).gemmNN(c1, a, b, 37, 50, 29, false);
    new ScalarKernels(4).gemmNN(c4, a, b, 37, 50, 29, false);
    assertThat(bits(c4)).isEqualTo(bits(c1));
  }
}
