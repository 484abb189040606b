package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.Kernels;
import org.qlimit.kernel.LpTerms;
import org.qlimit.kernel.VectorWidths;
import org.qlimit.util.NumericsConfig;
import org.qlimit.quant.Observers.Side;

@Tag(VectorWidths.TAG)
class ObserversTest {
  private static final Kernels K = Kernels.of(new NumericsConfig(256, 1));

  @Test
  void minMaxPerChannel() {
    float[] w = {-1f, 2f, 0.5f, 1.5f};
    QParams p = Observers.minMax(w, 2, QScheme.asymmetric(2));
    assertThat(p.scale()).containsExactly(1f, 0.5f);
    assertThat(p.zeroPoint()).containsExactly(1f, 0f);
    assertThat(Observers.minMaxRange(w, 1)).isEqualTo(new QRange(new float[] {-1f}, new float[] {2f}));
  }

  @Test
  void shrinkLpKeepsExactGrid() {
    // [0, 3] on 2 bits: i = 0 gives s = 1, every element exact, score 0; nothing is strictly smaller
    QParams p = Observers.shrinkLp(K, new float[] {0f, 1f, 2f, 3f}, 1, QScheme.asymmetric(2));
    assertThat(p.scale(0)).isEqualTo(1f);
    assertThat(p.zeroPoint(0)).isEqualTo(0f);
  }

  @Test
  void shrinkLpClipsAnOutlier() {
    float[] x = new float[101];
    for (int i = 0; i < 100; i++) {
      x[i] = (i % 4) * 0.25f;
    }
    x[100] = 3f;
    QParams p = Observers.shrinkLp(K, x, 1, QScheme.asymmetric(2));
    assertThat(p).isEqualTo(bruteShrink(x, QScheme.asymmetric(2)));
    assertThat(p.scale(0)).isLessThan(1f);
  }

  @Test
  void shrinkLpMatchesBruteForcePerChannel() {
    SplittableRandom rng = new SplittableRandom(3);
    for (QScheme sch : new QScheme[] {QScheme.asymmetric(2), QScheme.asymmetric(4),
        QScheme.symmetric(3)}) {
      int ch = 3;
      int cs = 37;
      float[] x = randomTensor(rng, ch * cs);
      QParams got = Observers.shrinkLp(K, x, ch, sch);
      for (int c = 0; c < ch; c++) {
        QParams one = bruteShrink(Arrays.copyOfRange(x, c * cs, (c + 1) * cs), sch);
        assertThat(got.scale(c)).isEqualTo(one.scale(0));
        assertThat(got.zeroPoint(c)).isEqualTo(one.zeroPoint(0));
      }
    }
  }

  /** Straight from ALGORITHMS.md §2 with the public API: first strictly smallest of 80 candidates. */
  private static QParams bruteShrink(float[] x, QScheme sch) {
    float mn = Float.MAX_VALUE;
    float mx = -Float.MAX_VALUE;
    for (float v : x) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    QParams best = null;
    double bestScore = Double.POSITIVE_INFINITY;
    for (int i = 0; i < 80; i++) {
      float f = (float) (1.0 - i * 0.01);
      QParams p = QParams.fromRange(mn * f, mx * f, sch);
      double score = score(x, p);
      if (score < bestScore) {
        bestScore = score;
        best = p;
      }
    }
    return best;
  }

  private static double score(float[] x, QParams p) {
    float[] y = new float[x.length];
    FakeQuant.fakeQuant(y, x, p, x.length);
    double sum = 0;
    for (int i = 0; i < x.length; i++) {
      sum += StrictMath.pow(Math.abs(x[i] - y[i]), 2.4);
    }
    return sum / x.length;
  }

  @Test
  void gridLpOneSidedHandCase() {
    // positive tensor, 1-D search over [0, t_i]; only t = 3 (s = 1) represents all of 0..3
    QParams p = Observers.gridLp(K, new float[] {0f, 1f, 2f, 3f}, 1, QScheme.asymmetric(2));
    assertThat(p.scale(0)).isCloseTo(1f, within(1e-6f));
    assertThat(p.zeroPoint(0)).isEqualTo(0f);
    QRange neg = Observers.gridLpRange(K, new float[] {0f, -1f, -2f, -3f}, 1, QScheme.asymmetric(2),
        Side.NEGATIVE);
    assertThat(neg.hi()[0]).isEqualTo(0f);
    assertThat(neg.lo()[0]).isCloseTo(-3f, within(1e-6f));
  }

  @Test
  void gridLpTwoSidedHandCase() {
    // 2-D search: only width 3 with zp = 1, the range [−1, 2], represents −1, 0, 1, 2 exactly
    float[] x = {-1f, 0f, 1f, 2f};
    QRange r = Observers.gridLpRange(K, x, 1, QScheme.asymmetric(2), Side.of(x));
    assertThat(r.lo()[0]).isCloseTo(-1f, within(1e-6f));
    assertThat(r.hi()[0]).isCloseTo(2f, within(1e-6f));
    QParams p = Observers.gridLp(K, x, 1, QScheme.asymmetric(2));
    assertThat(p.scale(0)).isCloseTo(1f, within(1e-6f));
    assertThat(p.zeroPoint(0)).isEqualTo(1f);
  }

  @Test
  void gridLpMatchesBruteForce() {
    SplittableRandom rng = new SplittableRandom(11);
    for (QScheme sch : new QScheme[] {QScheme.asymmetric(2), QScheme.asymmetric(3),
        QScheme.symmetric(3)}) {
      int ch = 2;
      int cs = 29;
      float[] x = randomTensor(rng, ch * cs);
      // make channel 1 one-sided inside a two-sided tensor: per channel, 0 is added to its range
      for (int i = cs; i < 2 * cs; i++) {
        x[i] = Math.abs(x[i]) + 0.1f;
      }
      QRange got = Observers.gridLpRange(K, x, ch, sch, Side.of(x));
      for (int c = 0; c < ch; c++) {
        float[] best = bruteGrid(Arrays.copyOfRange(x, c * cs, (c + 1) * cs), sch, Side.of(x));
        assertThat(got.lo()[c]).as("%s ch %d lo", sch, c).isEqualTo(best[0]);
        assertThat(got.hi()[c]).as("%s ch %d hi", sch, c).isEqualTo(best[1]);
      }
      float[] pos = new float[40];
      for (int i = 0; i < pos.length; i++) {
        pos[i] = (float) Math.abs(rng.nextGaussian());
      }
      QRange gotPos = Observers.gridLpRange(K, pos, 1, sch, Side.POSITIVE);
      float[] bestPos = bruteGrid(pos, sch, Side.POSITIVE);
      assertThat(gotPos.lo()[0]).isEqualTo(bestPos[0]);
      assertThat(gotPos.hi()[0]).isEqualTo(bestPos[1]);
    }
  }

  /** ALGORITHMS.md §2 grid search, per channel (min/max with 0 included for the 2-D case). */
  private static float[] bruteGrid(float[] x, QScheme sch, Side side) {
    float mn = Float.MAX_VALUE;
    float mx = -Float.MAX_VALUE;
    for (float v : x) {
      mn = Math.min(mn, v);
      mx = Math.max(mx, v);
    }
    float[] best = {mn, mx};
    double bestScore = 1e10f;
    if (side != Side.TWO_SIDED || sch.symmetric()) {
      float r = Math.max(Math.abs(mn), mx);
      for (int i = 1; i <= 100; i++) {
        float t = r / 100 * i;
        float lo = side == Side.POSITIVE ? 0f : -t;
        float hi = side == Side.NEGATIVE ? 0f : t;
        double s = score(x, QParams.fromRange(lo, hi, sch));
        if (s < bestScore) {
          bestScore = s;
          best = new float[] {lo, hi};
        }
      }
    } else {
      mn = Math.min(mn, 0f);
      mx = Math.max(mx, 0f);
      for (int i = 1; i <= 100; i++) {
        float w = (mx - mn) / 100 * i;
        float d = w / (float) sch.steps();
        for (int zp = sch.qmin(); zp <= sch.qmax(); zp++) {
          float lo = 0f - zp * d;
          float hi = w - zp * d;
          double s = score(x, QParams.fromRange(lo, hi, sch));
          if (s < bestScore) {
            bestScore = s;
            best = new float[] {lo, hi};
          }
        }
      }
    }
    return best;
  }

  @Test
  void batchesMergeByRunningMinMax() {
    QScheme sch = QScheme.asymmetric(2);
    float[] b1 = {0f, 1f, 2f, 3f};
    float[] b2 = {0f, 2f, 4f, 6f};
    Side side = Side.of(b1);
    QRange r = Observers.gridLpRange(K, b1, 1, sch, side).merge(Observers.gridLpRange(K, b2, 1, sch, side));
    assertThat(r.lo()[0]).isEqualTo(0f);
    assertThat(r.hi()[0]).isCloseTo(6f, within(1e-5f));
    QRange m = new QRange(new float[] {-1f, 0f}, new float[] {1f, 2f})
        .merge(new QRange(new float[] {-2f, 1f}, new float[] {0.5f, 3f}));
    assertThat(m).isEqualTo(new QRange(new float[] {-2f, 0f}, new float[] {1f, 3f}));
  }

  @Test
  void sideOfTensor() {
    assertThat(Side.of(new float[] {0f, 0f})).isEqualTo(Side.POSITIVE);
    assertThat(Side.of(new float[] {0f, -1f})).isEqualTo(Side.NEGATIVE);
    assertThat(Side.of(new float[] {1f, -1f})).isEqualTo(Side.TWO_SIDED);
  }

  @Test
  void observersAreDeterministicAcrossWidthsAndThreads() {
    float[] x = randomTensor(new SplittableRandom(5), 200);
    QScheme sch = QScheme.asymmetric(3);
    // one large channel (candidates split across threads) and many small ones (channels split)
    float[] big = randomTensor(new SplittableRandom(6), 20_000);
    QParams grid = Observers.gridLp(K, x, 4, sch);
    QParams shrink = Observers.shrinkLp(K, x, 4, sch);
    QParams bigGrid = Observers.gridLp(K, big, 1, sch);
    QParams bigShrink = Observers.shrinkLp(K, big, 1, sch);
    for (NumericsConfig cfg : new NumericsConfig[] {new NumericsConfig(0, 1),
        new NumericsConfig(128, 2), new NumericsConfig(256, 4), new NumericsConfig(512, 3)}) {
      Kernels k = Kernels.of(cfg);
      assertThat(Observers.gridLp(k, x.clone(), 4, sch)).as("%s", cfg).isEqualTo(grid);
      assertThat(Observers.shrinkLp(k, x.clone(), 4, sch)).as("%s", cfg).isEqualTo(shrink);
      assertThat(Observers.gridLp(k, big, 1, sch)).as("%s", cfg).isEqualTo(bigGrid);
      assertThat(Observers.shrinkLp(k, big, 1, sch)).as("%s", cfg).isEqualTo(bigShrink);
    }
  }

  @Test
  void prunedSearchWinsWhereTheFullScoresDo() {
    // 33 chunks of nonzero elements: the pruned path (prefix order, early stops) is taken
    SplittableRandom rng = new SplittableRandom(9);
    int len = 41 * 4096 + 123;
    float[] x = new float[len + 7];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextInt(5) == 0 ? 0f : (float) (rng.nextGaussian() * 0.5 + 0.2);
    }
    x[1000] = 9f;
    QScheme sch = QScheme.asymmetric(4);
    float[] sc = new float[100];
    float[] zp = new float[100];
    for (int i = 0; i < sc.length; i++) {
      sc[i] = 9f / 15f * (i + 1) / 100f;
      zp[i] = i % 3;
    }
    int want = fullArgMin(x, 7, len, sc, zp, sch);
    assertThat(want).isBetween(1, 98);
    // a copy of the winner before it wins (the first of equal scores), one after it does not
    float[] before = sc.clone();
    float[] zBefore = zp.clone();
    before[0] = sc[want];
    zBefore[0] = zp[want];
    float[] after = sc.clone();
    float[] zAfter = zp.clone();
    after[99] = sc[want];
    zAfter[99] = zp[want];
    for (NumericsConfig cfg : new NumericsConfig[] {new NumericsConfig(256, 1),
        new NumericsConfig(128, 2), new NumericsConfig(512, 5)}) {
      Kernels k = Kernels.of(cfg);
      assertThat(Observers.argBest(k, cfg.threads(), x, 7, len, sc, zp, sch, 1e10))
          .as("%s", cfg).isEqualTo(want);
      assertThat(Observers.argBest(k, cfg.threads(), x, 7, len, before, zBefore, sch, 1e10))
          .as("%s", cfg).isEqualTo(0);
      assertThat(Observers.argBest(k, cfg.threads(), x, 7, len, after, zAfter, sch, 1e10))
          .as("%s", cfg).isEqualTo(want);
      // no score below the initial best: no winner
      assertThat(Observers.argBest(k, cfg.threads(), x, 7, len, sc, zp, sch, 1e-9))
          .as("%s", cfg).isEqualTo(-1);
    }
  }

  /** Every score in full (scalar definition), first strict minimum below 1e10. */
  private static int fullArgMin(float[] x, int off, int len, float[] sc, float[] zp,
      QScheme sch) {
    float[] nz = new float[len];
    int n = 0;
    for (int i = off; i < off + len; i++) {
      if (x[i] != 0f) {
        nz[n++] = x[i];
      }
    }
    int best = -1;
    double bestScore = 1e10;
    for (int i = 0; i < sc.length; i++) {
      double score = LpTerms.sum(nz, 0, n, sc[i], zp[i], sch.qmin(), sch.qmax()) / len;
      if (score < bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return best;
  }

  private static float[] randomTensor(SplittableRandom rng, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) (rng.nextGaussian() * 0.7 + 0.1);
    }
    x[n / 2] = 4f; // an outlier worth clipping
    return x;
  }
}
