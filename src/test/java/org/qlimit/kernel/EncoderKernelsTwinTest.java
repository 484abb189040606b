package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.qlimit.kernel.KernelTestData.bits;
import static org.qlimit.kernel.KernelTestData.random;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The transformer kernels: SIMD batched GEMM (all transposes, accumulate on/off, awkward sizes)
 * against the scalar reference bit for bit at every vector width and 1, 2 and 4 threads; the
 * shared row-wise loops (GELU, tanh, LayerNorm, masked softmax and their backward passes) give the
 * same bits at every thread count and in both implementations.
 */
@Tag(VectorWidths.TAG)
class EncoderKernelsTwinTest {
  private static final Kernels REF = new ScalarKernels(1);

  private static List<Kernels> all() {
    List<Kernels> k = new ArrayList<>(List.of(KernelTestData.simdVariants()));
    k.add(new ScalarKernels(2));
    k.add(new ScalarKernels(3));
    return k;
  }

  @Test
  void gemmBatchedMatchesScalarBitForBit() {
    int[][] shapes = {{1, 1, 1, 1}, {3, 7, 5, 9}, {2, 16, 8, 16}, {12, 13, 17, 13}, {5, 64, 32, 64},
        {4, 33, 65, 7}, {0, 3, 3, 3}};
    for (int[] s : shapes) {
      int batch = s[0], m = s[1], k = s[2], n = s[3];
      float[] a = random(1, batch * m * k);
      float[] b = random(2, batch * k * n);
      float[] c0 = random(3, batch * m * n);
      for (boolean ta : new boolean[] {false, true}) {
        for (boolean tb : new boolean[] {false, true}) {
          for (boolean acc : new boolean[] {false, true}) {
            float[] want = c0.clone();
            REF.gemmBatched(want, a, ta, b, tb, batch, m, k, n, acc);
            // the reference is the plain per-item GEMM
            if (batch > 0 && !acc) {
              float[] one = new float[m * n];
              float[] a0 = java.util.Arrays.copyOf(a, m * k);
              float[] b0 = java.util.Arrays.copyOf(b, k * n);
              if (!ta && !tb) {
                REF.gemmNN(one, a0, b0, m, k, n, false);
              } else if (!ta) {
                REF.gemmNT(one, a0, b0, m, k, n, false);
              } else if (!tb) {
                REF.gemmTN(one, a0, b0, m, k, n, false);
              }
              if (!(ta && tb)) {
                assertThat(bits(java.util.Arrays.copyOf(want, m * n))).isEqualTo(bits(one));
              }
            }
            for (Kernels kern : all()) {
              float[] got = c0.clone();
              kern.gemmBatched(got, a, ta, b, tb, batch, m, k, n, acc);
              assertThat(bits(got)).as("%s ta=%s tb=%s acc=%s %s", java.util.Arrays.toString(s),
                  ta, tb, acc, kern.config()).isEqualTo(bits(want));
            }
          }
        }
      }
    }
  }

  @Test
  void rowWiseLoopsGiveTheSameBitsEverywhere() {
    int rows = 37;
    int h = 24;
    float[] x = random(4, rows * h);
    for (int i = 0; i < x.length; i++) {
      x[i] *= 4f;
    }
    float[] gamma = random(5, h);
    float[] beta = random(6, h);
    float[] dy = random(7, rows * h);
    int[] mask = new int[rows / 37 * h];
    for (int j = 0; j < h; j++) {
      mask[j] = j % 5 == 3 ? 0 : 1;
    }
    float[][] want = run(REF, x, gamma, beta, dy, mask, rows, h);
    for (Kernels kern : all()) {
      float[][] got = run(kern, x, gamma, beta, dy, mask, rows, h);
      for (int i = 0; i < want.length; i++) {
        assertThat(bits(got[i])).as("output %d %s", i, kern.config()).isEqualTo(bits(want[i]));
      }
    }
    // masked columns get exactly zero probability
    float[] p = want[6];
    assertThat(p[3]).isZero();
    assertThat(p[8]).isZero();
  }

  private static float[][] run(Kernels k, float[] x, float[] gamma, float[] beta, float[] dy,
      int[] mask, int rows, int h) {
    int n = rows * h;
    float[] gelu = new float[n];
    float[] dgelu = new float[n];
    float[] tanh = new float[n];
    float[] ln = new float[n];
    float[] xhat = new float[n];
    float[] rstd = new float[rows];
    float[] dx = new float[n];
    float[] dg = new float[h];
    float[] db = new float[h];
    float[] p = new float[n];
    float[] dp = new float[n];
    k.gelu(gelu, x, n);
    k.geluBackward(dgelu, dy, x, n);
    k.tanh(tanh, x, n);
    k.layerNorm(ln, xhat, rstd, x, gamma, beta, rows, h, 1e-12f);
    k.layerNormBackward(dx, dg, db, dy, xhat, rstd, gamma, rows, h);
    k.maskedSoftmax(p, x, mask, rows, h, rows);
    k.softmaxBackward(dp, dy, p, rows, h);
    return new float[][] {gelu, dgelu, tanh, ln, dx, dg, p, dp, db};
  }

  @Test
  void badCallsAreOneLineErrors() {
    assertThatThrownBy(() -> REF.gemmBatched(new float[4], new float[4], false, new float[3],
        false, 1, 2, 2, 2, false)).hasMessageContaining("gemmBatched");
    assertThatThrownBy(() -> REF.maskedSoftmax(new float[4], new float[4], new int[] {0, 0}, 2, 2,
        2)).hasMessage("maskedSoftmax: mask row 0 masks every column");
  }
}
