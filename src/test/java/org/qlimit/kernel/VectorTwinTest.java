package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.qlimit.kernel.KernelTestData.bits;
import static org.qlimit.kernel.KernelTestData.random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Linear, pooling, reductions and elementwise kernels: SIMD against scalar, bit for bit. */
@Tag(VectorWidths.TAG)
class VectorTwinTest {
  private static final Kernels REF = new ScalarKernels(1);
  private static final int[] LENS = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65,
      127, 255, 1023, 4099};

  @Test
  void reductions() {
    for (int n : LENS) {
      float[] a = random(1, n + 3);
      float[] b = random(2, n);
      for (Kernels k : KernelTestData.simdVariants()) {
        String what = "n=" + n + " " + k.config();
        assertThat(Float.floatToRawIntBits(k.sum(a, 3, n))).as("sum " + what)
            .isEqualTo(Float.floatToRawIntBits(REF.sum(a, 3, n)));
        assertThat(Float.floatToRawIntBits(k.dot(a, b, n))).as("dot " + what)
            .isEqualTo(Float.floatToRawIntBits(REF.dot(a, b, n)));
        assertThat(Float.floatToRawIntBits(k.sumSquaredDiff(a, b, n))).as("ssd " + what)
            .isEqualTo(Float.floatToRawIntBits(REF.sumSquaredDiff(a, b, n)));
      }
    }
  }

  @Test
  void sumMatchesTheDocumentedLaneOrder() {
    float[] x = random(3, 37);
    float[] lanes = new float[16];
    for (int i = 0; i < 32; i++) {
      lanes[i % 16] += x[i];
    }
    float want = Lanes.sumInOrder(lanes) + x[32] + x[33] + x[34] + x[35] + x[36];
    assertThat(REF.sum(x, 0, 37)).isEqualTo(want);
  }

  interface Unary {
    void run(Kernels k, float[] y, float[] x, int n);
  }

  interface Backward {
    void run(Kernels k, float[] dx, float[] dy, float[] x, int n);
  }

  private static void unary(String name, Unary op) {
    for (int n : LENS) {
      float[] x = scaled(random(4, n), 8f);
      float[] want = new float[n];
      op.run(REF, want, x, n);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] got = new float[n];
        op.run(k, got, x, n);
        assertThat(bits(got)).as("%s n=%d %s", name, n, k.config()).isEqualTo(bits(want));
        if (name.equals("axpy")) {
          continue; // its lambda overwrites y first, so y == x is not an in-place case
        }
        float[] inPlace = x.clone();
        op.run(k, inPlace, inPlace, n);
        assertThat(bits(inPlace)).as("%s in place n=%d", name, n).isEqualTo(bits(want));
      }
    }
  }

  private static void backward(String name, Backward op) {
    for (int n : LENS) {
      float[] x = scaled(random(5, n), 8f);
      float[] dy = random(6, n);
      float[] dx0 = random(7, n);
      float[] want = dx0.clone();
      op.run(REF, want, dy, x, n);
      for (Kernels k : KernelTestData.simdVariants()) {
        float[] got = dx0.clone();
        op.run(k, got, dy, x, n);
        assertThat(bits(got)).as("%s n=%d %s", name, n, k.config()).isEqualTo(bits(want));
      }
    }
  }

  private static float[] scaled(float[] a, float s) {
    for (int i = 0; i < a.length; i++) {
      a[i] *= s;
    }
    return a;
  }

  @Test
  void elementwise() {
    unary("relu", Kernels::relu);
    unary("relu6", Kernels::relu6);
    unary("clamp", (k, y, x, n) -> k.clamp(y, x, -2.5f, 3f, n));
    unary("rint", Kernels::rint);
    unary("floor", Kernels::floor);
    unary("sigmoid", Kernels::sigmoid);
    unary("exp", Kernels::exp);
    unary("log", (k, y, x, n) -> k.log(y, x, n));
    unary("add", (k, y, x, n) -> k.add(y, x, random(8, n), n));
    unary("mul", (k, y, x, n) -> k.mul(y, x, random(8, n), n));
    unary("axpy", (k, y, x, n) -> {
      System.arraycopy(random(9, n), 0, y, 0, n);
      k.axpy(y, 0.37f, x, n);
    });
    backward("reluBackward", Kernels::reluBackward);
    backward("relu6Backward", Kernels::relu6Backward);
  }

  @Test
  void reluEdgeValues() {
    float[] x = {-0f, 0f, 6f, -6f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 5.999f,
        1e-30f, -1e-30f, 7f, 0.5f, 2f, 3f, 4f, 5f, 6.5f, 9f};
    int n = x.length;
    for (Kernels k : KernelTestData.simdVariants()) {
      for (boolean six : new boolean[] {false, true}) {
        float[] want = new float[n];
        float[] got = new float[n];
        float[] dWant = new float[n];
        float[] dGot = new float[n];
        float[] dy = random(1, n);
        if (six) {
          REF.relu6(want, x, n);
          k.relu6(got, x, n);
          REF.relu6Backward(dWant, dy, x, n);
          k.relu6Backward(dGot, dy, x, n);
        } else {
          REF.relu(want, x, n);
          k.relu(got, x, n);
          REF.reluBackward(dWant, dy, x, n);
          k.reluBackward(dGot, dy, x, n);
        }
        assertThat(bits(got)).isEqualTo(bits(want));
        assertThat(bits(dGot)).isEqualTo(bits(dWant));
      }
    }
  }

  @Test
  void linearAndPooling() {
    int[][] shapes = {{1, 1, 1}, {3, 7, 5}, {17, 33, 10}, {64, 300, 47}, {5, 64, 1}};
    for (int[] s : shapes) {
      int n = s[0], in = s[1], out = s[2];
      float[] x = random(1, n * in);
      float[] w = random(2, out * in);
      float[] bias = random(3, out);
      float[] dy = random(4, n * out);
      float[] wantY = new float[n * out];
      REF.linearForward(wantY, x, w, bias, n, in, out);
      float[] wantDx = random(5, n * in);
      float[] dx0 = wantDx.clone();
      REF.linearBackwardData(wantDx, dy, w, n, in, out);
      float[] wantDw = random(6, out * in);
      float[] dw0 = wantDw.clone();
      float[] wantDb = random(7, out);
      float[] db0 = wantDb.clone();
      REF.linearBackwardWeight(wantDw, wantDb, dy, x, n, in, out);
      float[] wantP = new float[n * out];
      REF.globalAvgPool(wantP, w.length >= n * out * in ? w : random(8, n * out * in), n * out, in);
      for (Kernels k : KernelTestData.simdVariants()) {
        String what = String.format("n=%d in=%d out=%d %s", n, in, out, k.config());
        float[] y = new float[n * out];
        k.linearForward(y, x, w, bias, n, in, out);
        assertThat(bits(y)).as("linearForward " + what).isEqualTo(bits(wantY));
        float[] dx = dx0.clone();
        k.linearBackwardData(dx, dy, w, n, in, out);
        assertThat(bits(dx)).as("linearBackwardData " + what).isEqualTo(bits(wantDx));
        float[] dw = dw0.clone();
        float[] db = db0.clone();
        k.linearBackwardWeight(dw, db, dy, x, n, in, out);
        assertThat(bits(dw)).as("linearBackwardWeight dw " + what).isEqualTo(bits(wantDw));
        assertThat(bits(db)).as("linearBackwardWeight db " + what).isEqualTo(bits(wantDb));
        float[] p = new float[n * out];
        k.globalAvgPool(p, w.length >= n * out * in ? w : random(8, n * out * in), n * out, in);
        assertThat(bits(p)).as("globalAvgPool " + what).isEqualTo(bits(wantP));
        float[] gx = random(9, n * out * in);
        float[] gxWant = gx.clone();
        REF.globalAvgPoolBackward(gxWant, dy, n * out, in);
        k.globalAvgPoolBackward(gx, dy, n * out, in);
        assertThat(bits(gx)).as("globalAvgPoolBackward " + what).isEqualTo(bits(gxWant));
      }
    }
  }

  @Test
  void softmax() {
    float[] logits = scaled(random(1, 7 * 13), 20f);
    float[] want = new float[7 * 13];
    REF.softmax(want, logits, 7, 13);
    for (int i = 0; i < 7; i++) {
      double s = 0;
      for (int j = 0; j < 13; j++) {
        s += want[i * 13 + j];
      }
      assertThat(s).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    }
    for (Kernels k : KernelTestData.simdVariants()) {
      float[] got = new float[7 * 13];
      k.softmax(got, logits, 7, 13);
      assertThat(bits(got)).isEqualTo(bits(want));
    }
  }
}
