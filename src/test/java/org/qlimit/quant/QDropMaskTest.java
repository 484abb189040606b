package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QDropMaskTest {
  private static final long SEED = 1005;

  private static float[][] inputs(int n) {
    float[] xq = new float[n];
    float[] xfp = new float[n];
    for (int i = 0; i < n; i++) {
      xq[i] = i + 0.5f;
      xfp[i] = -(i + 0.5f);
    }
    return new float[][] {xq, xfp};
  }

  @Test
  void rateMatchesProbability() {
    int n = 200_000;
    for (float prob : new float[] {0.5f, 0.25f, 0.9f}) {
      byte[] keep = new byte[n];
      QDropMask.mask(keep, 0, n, SEED, QDropMask.site(3, 1), 17, prob);
      long kept = 0;
      for (byte b : keep) {
        kept += b;
      }
      // binomial standard deviation at n = 2e5 is at most 0.0011
      assertThat(kept / (double) n).isCloseTo(prob, within(0.006));
    }
  }

  @Test
  void extremeProbabilities() {
    float[][] in = inputs(1000);
    float[] out = new float[1000];
    QDropMask.mix(out, in[0], in[1], SEED, 0, 1, 1f);
    assertThat(out).containsExactly(in[0]);
    QDropMask.mix(out, in[0], in[1], SEED, 0, 1, 0f);
    assertThat(out).containsExactly(in[1]);
  }

  @Test
  void independentOfChunking() {
    int n = 10_007;
    float[][] in = inputs(n);
    long site = QDropMask.site(2, 0);
    float[] whole = new float[n];
    QDropMask.mix(whole, in[0], in[1], SEED, site, 42, 0.5f);
    SplittableRandom rng = new SplittableRandom(9);
    int[] cuts = new int[20];
    int pos = 0;
    int k = 0;
    while (pos < n && k < cuts.length - 1) {
      pos = Math.min(n, pos + 1 + rng.nextInt(1500));
      cuts[k++] = pos;
    }
    cuts[k++] = n;
    float[] chunked = new float[n];
    // visit the chunks in reverse order
    for (int j = k - 1; j >= 0; j--) {
      int from = j == 0 ? 0 : cuts[j - 1];
      QDropMask.mixRange(chunked, in[0], in[1], from, cuts[j], SEED, site, 42, 0.5f);
    }
    assertThat(chunked).containsExactly(whole);
    byte[] keep = new byte[n];
    QDropMask.mask(keep, 0, n, SEED, site, 42, 0.5f);
    for (int i = 0; i < n; i++) {
      assertThat(whole[i]).isEqualTo(keep[i] == 1 ? in[0][i] : in[1][i]);
      assertThat(QDropMask.keep(SEED, site, 42, i, 0.5f)).isEqualTo(keep[i] == 1);
    }
  }

  @Test
  void differentStepsAndSitesGiveDifferentMasks() {
    int n = 4096;
    byte[] a = new byte[n];
    byte[] b = new byte[n];
    byte[] c = new byte[n];
    QDropMask.mask(a, 0, n, SEED, QDropMask.site(1, 0), 5, 0.5f);
    QDropMask.mask(b, 0, n, SEED, QDropMask.site(1, 0), 6, 0.5f);
    QDropMask.mask(c, 0, n, SEED, QDropMask.site(1, 1), 5, 0.5f);
    int ab = 0;
    int ac = 0;
    for (int i = 0; i < n; i++) {
      ab += a[i] != b[i] ? 1 : 0;
      ac += a[i] != c[i] ? 1 : 0;
    }
    assertThat(ab / (double) n).isCloseTo(0.5, within(0.05));
    assertThat(ac / (double) n).isCloseTo(0.5, within(0.05));
  }

  @Test
  void backwardRoutesGradient() {
    byte[] keep = {1, 0, 1, 0};
    float[] dy = {1f, 2f, 3f, 4f};
    float[] dq = {10f, 10f, 10f, 10f};
    float[] dfp = new float[4];
    QDropMask.mixBackward(dq, dfp, dy, keep, 0, 4);
    assertThat(dq).containsExactly(11f, 10f, 13f, 10f);
    assertThat(dfp).containsExactly(0f, 2f, 0f, 4f);
    float[] dq2 = new float[4];
    QDropMask.mixBackward(dq2, null, dy, keep, 1, 3);
    assertThat(dq2).containsExactly(0f, 0f, 3f, 0f);
  }
}
