package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.qlimit.kernel.KernelTestData.bits;
import static org.qlimit.kernel.KernelTestData.random;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.qlimit.util.NumericsConfig;
import org.junit.jupiter.api.Test;

/** SIMD convolution forward / backward-data / backward-weight against the scalar reference. */
@Tag(VectorWidths.TAG)
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
      new ConvShape(1, 1, 1, 1, 1, 1, 1, 1, 0, 1),
      // grouped stride-1 "same" conv with 6 input channels per group (direct backward-data)
      new ConvShape(2, 12, 6, 7, 10, 3, 3, 1, 1, 2),
      // 1×1 expansions (K < cout: backward-weight as GEMM), 4 and 7 input channels
      new ConvShape(2, 4, 6, 5, 10, 1, 1, 1, 0, 1),
      new ConvShape(2, 7, 5, 6, 20, 1, 1, 1, 0, 1),
      // depthwise 3×3 with whole lane blocks of channels and channels left over at every width
      // (4, 8 and 16 lanes), stride 1 and 2
      new ConvShape(2, 37, 7, 6, 37, 3, 3, 1, 1, 37),
      new ConvShape(2, 20, 9, 9, 20, 3, 3, 2, 1, 20),
      // depthwise 5×5 on inputs smaller than the kernel (taps that reach no input column)
      new ConvShape(2, 17, 3, 3, 17, 5, 5, 2, 1, 17));

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

  /**
   * Stride-1 shapes that take the implicit-GEMM forward (batch ≥ threads): output channels that
   * are not a multiple of the 6-row tile, padded widths whose grid ends mid-tile, kh ≠ kw, no
   * padding, wide padding, groups, and K = cin·kh·kw above the GEMM's 256-deep k block.
   */
  static final List<ConvShape> STRIDE_ONE = List.of(
      new ConvShape(4, 3, 7, 6, 13, 3, 3, 1, 1, 1),
      new ConvShape(5, 2, 9, 11, 7, 3, 5, 1, 2, 1),
      new ConvShape(4, 5, 6, 5, 1, 2, 2, 1, 0, 1),
      new ConvShape(4, 6, 8, 8, 10, 3, 3, 1, 1, 2),
      new ConvShape(4, 33, 7, 7, 33, 3, 3, 1, 1, 1),
      new ConvShape(4, 4, 3, 3, 6, 3, 3, 1, 0, 1),
      new ConvShape(6, 16, 28, 28, 16, 3, 3, 1, 1, 1));

  /** Each STRIDE_ONE shape twice on the same kernels: reused scratch must not leak between calls. */
  @Test
  void forwardStrideOneImplicitGemm() {
    for (ConvShape s : STRIDE_ONE) {
      for (Kernels k : KernelTestData.simdVariants()) {
        for (int rep = 0; rep < 2; rep++) {
          float[] x = random(21 + rep, (int) s.inputSize());
          float[] w = random(22 + rep, (int) s.weightSize());
          float[] bias = rep == 0 ? null : random(23, s.cout());
          float[] want = new float[(int) s.outputSize()];
          REF.conv2dForward(want, x, w, bias, s);
          float[] got = random(24, (int) s.outputSize());
          k.conv2dForward(got, x, w, bias, s);
          assertThat(bits(got)).as("%s bias=%s %s", s, bias != null, k.config())
              .isEqualTo(bits(want));
        }
      }
    }
  }

  /**
   * Backward-data on the stride-1 shapes: col2im adds vector runs per output row, or one run over
   * all rows for the kernel columns that stay inside the image when wo = w.
   */
  @Test
  void backwardDataStrideOneRuns() {
    for (ConvShape s : STRIDE_ONE) {
      float[] dy = random(41, (int) s.outputSize());
      float[] w = random(42, (int) s.weightSize());
      float[] dx0 = random(43, (int) s.inputSize());
      float[] want = dx0.clone();
      REF.conv2dBackwardData(want, dy, w, s);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] got = dx0.clone();
        k.conv2dBackwardData(got, dy, w, s);
        assertThat(bits(got)).as("%s %s", s, k.config()).isEqualTo(bits(want));
      }
    }
  }

  /**
   * Backward-weight as dw_g += dy_g · colᵀ on shapes whose K = cinG·kh·kw is not a multiple of
   * any tile width (6, 50, 20, 54, 297 and 36 columns) and whose cout is not a multiple of the
   * 6-row tile, stride 1 and 2, with the 64@8-style 64-channel case that packs B.
   */
  @Test
  void backwardWeightOddTiles() {
    List<ConvShape> shapes = List.of(
        new ConvShape(3, 2, 7, 6, 13, 1, 3, 1, 1, 1),
        new ConvShape(2, 2, 9, 11, 7, 5, 5, 2, 2, 1),
        new ConvShape(3, 5, 6, 5, 1, 2, 2, 1, 0, 1),
        new ConvShape(2, 12, 8, 8, 10, 3, 3, 1, 1, 2),
        new ConvShape(2, 33, 7, 7, 33, 3, 3, 1, 1, 1),
        new ConvShape(3, 4, 9, 9, 64, 3, 3, 2, 1, 1));
    for (ConvShape s : shapes) {
      float[] dy = random(31, (int) s.outputSize());
      float[] x = random(32, (int) s.inputSize());
      float[] dw0 = random(33, (int) s.weightSize());
      float[] db0 = random(34, s.cout());
      float[] wantW = dw0.clone();
      float[] wantB = db0.clone();
      REF.conv2dBackwardWeight(wantW, wantB, dy, x, s);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] gotW = dw0.clone();
        float[] gotB = db0.clone();
        k.conv2dBackwardWeight(gotW, gotB, dy, x, s);
        assertThat(bits(gotW)).as("dw %s %s", s, k.config()).isEqualTo(bits(wantW));
        assertThat(bits(gotB)).as("db %s %s", s, k.config()).isEqualTo(bits(wantB));
      }
    }
  }

  /**
   * Backward-weight with 1 to 5 threads at every width: threads split dw's K columns at panel
   * boundaries (K = 4·9 = 36 and 33·9 = 297 columns: one to several panels per thread, and more
   * threads than panels), each dw element still one chain over (item, position).
   */
  @Test
  void backwardWeightColumnSplits() {
    for (ConvShape s : List.of(new ConvShape(7, 8, 9, 9, 6, 3, 3, 1, 1, 2),
        new ConvShape(3, 33, 6, 5, 7, 3, 3, 1, 1, 1))) {
      float[] dy = random(11, (int) s.outputSize());
      float[] x = random(12, (int) s.inputSize());
      float[] dw0 = random(13, (int) s.weightSize());
      float[] want = dw0.clone();
      REF.conv2dBackwardWeight(want, null, dy, x, s);
      for (int bitsWidth : new int[] {128, 256, 512}) {
        for (int threads = 1; threads <= 5; threads++) {
          Kernels k = new SimdKernels(new NumericsConfig(bitsWidth, threads));
          float[] got = dw0.clone();
          k.conv2dBackwardWeight(got, null, dy, x, s);
          assertThat(bits(got)).as("%s %d bits, %d threads", s, bitsWidth, threads)
              .isEqualTo(bits(want));
        }
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
