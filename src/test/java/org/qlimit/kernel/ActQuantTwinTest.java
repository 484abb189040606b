package org.qlimit.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.qlimit.kernel.KernelTestData.bits;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.util.NumericsConfig;

/**
 * Activation fake quantization with QDrop dropping, and the squared reconstruction loss's
 * gradient: SIMD (128/256/512 bits × 1–5 threads) against {@link ScalarKernels}, bit for bit, at
 * awkward lengths and on both sides of the parallel limit.
 */
@Tag(VectorWidths.TAG)
class ActQuantTwinTest {
  private static final Kernels REF = new ScalarKernels(1);
  private static final int[] LENS = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 127,
      1023, ScalarKernels.ACT_PARALLEL_MIN + 5};
  private static final long PREFIX = 0x1234_5678_9ABC_DEF0L;

  private static List<Kernels> variants() {
    List<Kernels> ks = new ArrayList<>();
    ks.add(new ScalarKernels(3));
    for (int bits : new int[] {128, 256, 512}) {
      for (int t = 1; t <= 5; t++) {
        ks.add(SimdKernels.exactWidth(new NumericsConfig(bits, t)));
      }
    }
    return ks;
  }

  /**
   * Inputs around the clamp range with exact rounding ties (x/s = k + ½), signed zeros, values
   * far outside the range, and zero upstream gradients.
   */
  private static float[] x(int n, float s) {
    SplittableRandom r = new SplittableRandom(31 + n);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      int kind = r.nextInt(8);
      x[i] = switch (kind) {
        case 0 -> 0f;
        case 1 -> -0f;
        case 2 -> (r.nextInt(40) - 20 + 0.5f) * s;
        case 3 -> (float) (r.nextDouble() * 2e3 - 1e3);
        default -> (float) (r.nextDouble() * 24 - 12) * s;
      };
    }
    return x;
  }

  private static float[] dy(int n) {
    float[] d = KernelTestData.random(41, n);
    for (int i = 0; i < n; i += 5) {
      d[i] = i % 10 == 0 ? -0f : 0f;
    }
    return d;
  }

  private record Case(float s, float z, int qmin, int qmax, float prob) {}

  private static final Case[] CASES = {
      new Case(0.37f, 0f, 0, 15, 0.5f),
      new Case(0.11f, 3f, 0, 15, 0.5f),
      new Case(0.25f, 0f, -8, 7, 0.3f),
      new Case(1e-3f, -2f, -2, 1, 1f),
      new Case(0.5f, 1f, 0, 3, 0f),
  };

  @Test
  void forwardMatchesTheScalarDefinition() {
    for (Case c : CASES) {
      for (int n : LENS) {
        float[] x = x(n, c.s);
        for (boolean drop : new boolean[] {false, true}) {
          float[] want = new float[n];
          boolean[] keepWant = drop ? new boolean[n] : null;
          REF.fakeQuantDrop(want, keepWant, x, n, c.s, c.z, c.qmin, c.qmax, PREFIX, c.prob);
          for (Kernels k : variants()) {
            String what = c + " n=" + n + " drop=" + drop + " " + k.config();
            float[] got = new float[n];
            boolean[] keep = drop ? new boolean[n] : null;
            k.fakeQuantDrop(got, keep, x, n, c.s, c.z, c.qmin, c.qmax, PREFIX, c.prob);
            assertThat(bits(got)).as(what).isEqualTo(bits(want));
            assertThat(keep).as(what).isEqualTo(keepWant);
            float[] inPlace = x.clone();
            k.fakeQuantDrop(inPlace, keep, inPlace, n, c.s, c.z, c.qmin, c.qmax, PREFIX, c.prob);
            assertThat(bits(inPlace)).as("in place " + what).isEqualTo(bits(want));
          }
        }
      }
    }
  }

  @Test
  void backwardMatchesTheScalarDefinition() {
    for (Case c : CASES) {
      for (int n : LENS) {
        float[] x = x(n, c.s);
        float[] dy = dy(n);
        float[] dx0 = KernelTestData.random(43, n);
        for (int i = 0; i < n; i += 7) {
          // signed zeros in the incoming gradient meet the signed zeros of dy
          dx0[i] = i % 14 == 0 ? -0f : 0f;
        }
        boolean[] keep = new boolean[n];
        REF.fakeQuantDrop(new float[n], keep, x, n, c.s, c.z, c.qmin, c.qmax, PREFIX, c.prob);
        for (boolean drop : new boolean[] {false, true}) {
          boolean[] kp = drop ? keep : null;
          float[] dxWant = dx0.clone();
          float gWant = REF.fakeQuantDropBackward(dxWant, new double[n], dy, kp, x, n, c.s, c.z,
              c.qmin, c.qmax, 0.0173f);
          for (Kernels k : variants()) {
            String what = c + " n=" + n + " drop=" + drop + " " + k.config();
            float[] dx = dx0.clone();
            float g = k.fakeQuantDropBackward(dx, new double[n + 3], dy, kp, x, n, c.s, c.z,
                c.qmin, c.qmax, 0.0173f);
            assertThat(bits(dx)).as(what).isEqualTo(bits(dxWant));
            assertThat(Float.floatToRawIntBits(g)).as(what)
                .isEqualTo(Float.floatToRawIntBits(gWant));
            // without dx (x needs no gradient) the step's gradient is the same
            assertThat(Float.floatToRawIntBits(k.fakeQuantDropBackward(null, new double[n], dy, kp,
                x, n, c.s, c.z, c.qmin, c.qmax, 0.0173f))).as(what)
                .isEqualTo(Float.floatToRawIntBits(gWant));
            // without terms (fixed step) only dx is formed
            float[] dxOnly = dx0.clone();
            assertThat(k.fakeQuantDropBackward(dxOnly, null, dy, kp, x, n, c.s, c.z, c.qmin,
                c.qmax, 0.0173f)).isZero();
            assertThat(bits(dxOnly)).as(what).isEqualTo(bits(dxWant));
          }
        }
      }
    }
  }

  @Test
  void mixMatchesTheScalarDefinition() {
    for (int n : LENS) {
      float[] xq = KernelTestData.random(51, n);
      float[] xfp = KernelTestData.random(52, n);
      for (float prob : new float[] {0f, 0.5f, 0.9f, 1f}) {
        float[] want = new float[n];
        REF.qdropMix(want, xq, xfp, n, PREFIX, prob);
        for (Kernels k : variants()) {
          float[] got = new float[n];
          k.qdropMix(got, xq, xfp, n, PREFIX, prob);
          assertThat(bits(got)).as("n=%d prob=%s %s", n, prob, k.config()).isEqualTo(bits(want));
          float[] inPlace = xq.clone();
          k.qdropMix(inPlace, inPlace, xfp, n, PREFIX, prob);
          assertThat(bits(inPlace)).isEqualTo(bits(want));
        }
      }
    }
  }

  @Test
  void squaredDiffGradMatchesTheScalarDefinition() {
    for (int n : LENS) {
      float[] a = KernelTestData.random(61, n);
      float[] b = KernelTestData.random(62, n);
      float[] da0 = KernelTestData.random(63, n);
      for (double scale : new double[] {1.0 / 3, -2.5e-4, 1e30}) {
        float[] want = da0.clone();
        REF.squaredDiffGrad(want, a, b, n, scale);
        for (Kernels k : variants()) {
          float[] got = da0.clone();
          k.squaredDiffGrad(got, a, b, n, scale);
          assertThat(bits(got)).as("n=%d scale=%s %s", n, scale, k.config())
              .isEqualTo(bits(want));
        }
      }
    }
    float[] da = {1f, 0f};
    REF.squaredDiffGrad(da, new float[] {3f, 0.1f}, new float[] {1f, 0.3f}, 2, 0.5);
    assertThat(da).containsExactly(3f, (float) (2 * ((double) 0.1f - 0.3f) * 0.5));
  }

  @Test
  void theDefinitionKeepsAndDropsAsDocumented() {
    float[] x = {0.3f, -0.3f, 0.5f, 1.5f, 100f, -100f, 0.2f, 0.7f};
    float[] y = new float[x.length];
    REF.fakeQuantDrop(y, null, x, x.length, 1f, 0f, -2, 1, 0L, 1f);
    // rint half to even (rint(−0.3) = −0, and −0 + 0 = +0), then the clamp to [-2, 1]
    assertThat(bits(y)).containsExactly(bits(new float[] {0f, 0f, 0f, 1f, 1f, -2f, 0f, 1f}));
    boolean[] keep = new boolean[x.length];
    REF.fakeQuantDrop(y, keep, x, x.length, 1f, 0f, -2, 1, PREFIX, 0.5f);
    for (int i = 0; i < x.length; i++) {
      assertThat(y[i]).isEqualTo(keep[i] ? Math.min(Math.max((float) Math.rint(x[i]), -2f), 1f)
          : x[i]);
    }
    // the dropped elements' gradient goes to x; the kept ones' passes the STE inside the range
    float[] dx = new float[x.length];
    float[] dy = {1, 1, 1, 1, 1, 1, 1, 1};
    REF.fakeQuantDropBackward(dx, null, dy, keep, x, x.length, 1f, 0f, -2, 1, 1f);
    for (int i = 0; i < x.length; i++) {
      boolean inside = Math.rint(x[i]) >= -2 && Math.rint(x[i]) <= 1;
      assertThat(dx[i]).isEqualTo(!keep[i] || inside ? 1f : 0f);
    }
  }

  @Test
  void badInputFailsWithAMessage() {
    for (Kernels k : new Kernels[] {REF, variants().get(0)}) {
      assertThatThrownBy(() -> k.fakeQuantDrop(new float[2], null, new float[3], 3, 1f, 0f, 0, 3,
          0L, 0.5f)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("y");
      assertThatThrownBy(() -> k.fakeQuantDrop(new float[3], new boolean[2], new float[3], 3, 1f,
          0f, 0, 3, 0L, 0.5f)).hasMessageContaining("keep");
      assertThatThrownBy(() -> k.qdropMix(new float[3], new float[3], new float[3], 3, 0L, 1.5f))
          .hasMessageContaining("probability");
      float[] a = new float[3];
      assertThatThrownBy(() -> k.fakeQuantDropBackward(a, null, a, null, new float[3], 3, 1f, 0f,
          0, 3, 1f)).hasMessageContaining("alias");
      assertThatThrownBy(() -> k.fakeQuantDropBackward(null, new double[2], a, null, a, 3, 1f, 0f,
          0, 3, 1f)).hasMessageContaining("terms");
    }
  }
}
