package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.Kernels;
import org.qlimit.util.NumericsConfig;

/**
 * The kernels' fused activation quantization has the values of {@link FakeQuant} and
 * {@link QDropMask}'s definitions: fakeQuantRange, mask and apply forward; mixBackward,
 * backwardRange and scaleGrad backward; mixRange for the input mix.
 */
class ActQuantKernelsTest {
  private static final long SEED = 1005;

  @Test
  void kernelsReproduceTheQuantizerDefinitions() {
    int n = 10_007;
    SplittableRandom r = new SplittableRandom(7);
    float[] x = new float[n];
    float[] dy = new float[n];
    float[] xfp = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = i % 9 == 0 ? 0f : (float) (r.nextDouble() * 6 - 1);
      dy[i] = i % 13 == 0 ? -0f : (float) (r.nextDouble() - 0.5);
      xfp[i] = (float) r.nextGaussian();
    }
    float s = 0.31f;
    float z = 2f;
    int qmin = 0;
    int qmax = 15;
    long site = QDropMask.site(4, 2);
    long step = 17;
    float prob = 0.5f;
    float gs = FakeQuant.lsqGradScale(n, qmax);

    float[] yWant = new float[n];
    byte[] keepWant = new byte[n];
    FakeQuant.fakeQuantRange(yWant, x, s, z, qmin, qmax, 0, n);
    QDropMask.mask(keepWant, 0, n, SEED, site, step, prob);
    QDropMask.apply(yWant, yWant, x, keepWant, 0, n);
    float[] dyq = new float[n];
    float[] dxWant = new float[n];
    double[] terms = new double[n];
    QDropMask.mixBackward(dyq, dxWant, dy, keepWant, 0, n);
    FakeQuant.backwardRange(dxWant, terms, dyq, x, s, z, qmin, qmax, 0, n);
    float gWant = FakeQuant.scaleGrad(terms, 0, n, gs);
    float[] mixWant = new float[n];
    QDropMask.mixRange(mixWant, x, xfp, 0, n, SEED, site, step, prob);

    for (int bits : new int[] {0, 256}) {
      Kernels k = Kernels.of(new NumericsConfig(bits, 2));
      long prefix = QDropMask.prefix(SEED, site, step);
      float[] y = new float[n];
      boolean[] keep = new boolean[n];
      k.fakeQuantDrop(y, keep, x, n, s, z, qmin, qmax, prefix, prob);
      assertThat(bits(y)).as("forward %d", bits).containsExactly(bits(yWant));
      for (int i = 0; i < n; i++) {
        assertThat(keep[i]).isEqualTo(keepWant[i] != 0);
      }
      float[] dx = new float[n];
      float g = k.fakeQuantDropBackward(dx, new double[n], dy, keep, x, n, s, z, qmin, qmax, gs);
      assertThat(bits(dx)).as("dx %d", bits).containsExactly(bits(dxWant));
      assertThat(Float.floatToRawIntBits(g)).as("step gradient %d", bits)
          .isEqualTo(Float.floatToRawIntBits(gWant));
      float[] mix = new float[n];
      k.qdropMix(mix, x, xfp, n, prefix, prob);
      assertThat(bits(mix)).as("mix %d", bits).containsExactly(bits(mixWant));
    }
  }

  private static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }
}
