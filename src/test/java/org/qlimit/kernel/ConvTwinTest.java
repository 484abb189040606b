package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.qlimit.kernel.KernelTestData.bits;
import static org.qlimit.kernel.KernelTestData.random;

import java.util.List;
import org.qlimit.util.NumericsConfig;
import org.junit.jupiter.api.Test;

/** SIMD convolution forward / backward-data / backward-weight against the scalar reference. */
class ConvTwinTest {
  private static final Kernels REF = new ScalarKernels(1);

  // (n, cin, h, w, cout, kh, kw, stride, pad, groups)
  static final List<ConvShape> SHAPES = List.of(
      new ConvShape(2, 3, 7, 6, 4, 3, 3, 1, 1, 1),
      new ConvShape(2, 4, 9, 9, 6, 3, 3, 2, 1, 2),
      new ConvShape(1, 5, 5, 7, 3, 1, 1, 1, 0, 1),
      new ConvShape(3, 2, 11, 11, 5, 5, 5, 2, 0, 1),
      new ConvShape(2, 3, 5, 5, 6, 5, 5, 1, 2, 3),
      new ConvShape(0, 3, 5, 5, 4, 3, 3, 1, 1, 1),
      new ConvShape(1, 16, 14, 14, 16, 3, 3, 1, 1, 1),
      new ConvShape(3, 4, 8, 8, 4, 3, 3, 1, 1, 4),
      new ConvShape(2, 6, 9, 10, 6, 3, 3, 2, 1, 6),
      new ConvShape(2, 6, 5, 5, 6, 1, 1, 1, 0, 6),
      new ConvShape(1, 8, 20, 37, 8, 3, 3, 1, 1, 8),
      new ConvShape(2, 5, 13, 17, 5, 5, 5, 1, 2, 5),
      new ConvShape(1, 1, 1, 1, 1, 1, 1, 1, 0, 1));

  @Test
  void forward() {
    for (ConvShape s : SHAPES) {
      float[] x = random(1, (int) s.inputSize());
      float[] w = random(2, (int) s.weightSize());
      for (float[] bias : new float[][] {null, random(3, s.cout())}) {
        float[] want = new float[(int) s.outputSize()];
        REF.conv2dForward(want, x, w, bias, s);
        for (Kernels k : KernelTestData.simdVariants()) {
          float[] got = random(9, (int) s.outputSize());
          k.conv2dForward(got, x, w, bias, s);
          assertThat(bits(got)).as("%s bias=%s %s", s, bias != null, k.config())
              .isEqualTo(bits(want));
        }
      }
    }
  }

  @Test
  void backwardData() {
    for (ConvShape s : SHAPES) {
      float[] dy = random(4, (int) s.outputSize());
      float[] w = random(5, (int) s.weightSize());
      float[] dx0 = random(6, (int) s.inputSize());
      float[] want = dx0.clone();
      REF.conv2dBackwardData(want, dy, w, s);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] got = dx0.clone();
        k.conv2dBackwardData(got, dy, w, s);
        assertThat(bits(got)).as("%s %s", s, k.config()).isEqualTo(bits(want));
      }
    }
  }

  @Test
  void backwardWeight() {
    for (ConvShape s : SHAPES) {
      float[] dy = random(7, (int) s.outputSize());
      float[] x = random(8, (int) s.inputSize());
      float[] dw0 = random(9, (int) s.weightSize());
      float[] db0 = random(10, s.cout());
      float[] wantW = dw0.clone();
      float[] wantB = db0.clone();
      REF.conv2dBackwardWeight(wantW, wantB, dy, x, s);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] gotW = dw0.clone();
        float[] gotB = db0.clone();
        k.conv2dBackwardWeight(gotW, gotB, dy, x, s);
        assertThat(bits(gotW)).as("dw %s %s", s, k.config()).isEqualTo(bits(wantW));
        assertThat(bits(gotB)).as("db %s %s", s, k.config()).isEqualTo(bits(wantB));
        float[] gotW2 = dw0.clone();
        k.conv2dBackwardWeight(gotW2, null, dy, x, s);
        assertThat(bits(gotW2)).as("dw no db %s %s", s, k.config()).isEqualTo(bits(wantW));
      }
    }
  }

  /** Batch items in chunks of 1, 2 and 3 (small im2col budgets) give the same bits. */
  @Test
  void backwardWeightChunksOfBatchItems() {
    ConvShape s = new ConvShape(7, 4, 9, 9, 6, 3, 3, 1, 1, 2);
    float[] dy = random(11, (int) s.outputSize());
    float[] x = random(12, (int) s.inputSize());
    float[] dw0 = random(13, (int) s.weightSize());
    float[] want = dw0.clone();
    REF.conv2dBackwardWeight(want, null, dy, x, s);
    long perItem = (long) s.cinPerGroup() * 9 * s.ho() * s.wo();
    for (long items : new long[] {1, 2, 3}) {
      for (int threads : new int[] {1, 2}) {
        Kernels k = SimdKernels.withColumnBudget(new NumericsConfig(256, threads), items * perItem);
        float[] got = dw0.clone();
        k.conv2dBackwardWeight(got, null, dy, x, s);
        assertThat(bits(got)).as("%d items per GEMM, %d threads", items, threads)
            .isEqualTo(bits(want));
      }
    }
  }

  @Test
  void scalarThreadsDoNotChangeBits() {
    ConvShape s = new ConvShape(5, 4, 9, 9, 6, 3, 3, 2, 1, 2);
    float[] x = random(1, (int) s.inputSize());
    float[] w = random(2, (int) s.weightSize());
    float[] dy = random(3, (int) s.outputSize());
    Kernels one = new ScalarKernels(1);
    Kernels four = new ScalarKernels(4);
    float[] y1 = new float[(int) s.outputSize()];
    float[] y4 = new float[(int) s.outputSize()];
    one.conv2dForward(y1, x, w, null, s);
    four.conv2dForward(y4, x, w, null, s);
    assertThat(bits(y4)).isEqualTo(bits(y1));
    float[] dw1 = new float[(int) s.weightSize()];
    float[] dw4 = new float[(int) s.weightSize()];
    float[] db1 = new float[s.cout()];
    float[] db4 = new float[s.cout()];
    one.conv2dBackwardWeight(dw1, db1, dy, x, s);
    four.conv2dBackwardWeight(dw4, db4, dy, x, s);
    assertThat(bits(dw4)).isEqualTo(bits(dw1));
    assertThat(bits(db4)).isEqualTo(bits(db1));
  }
}
