package org.qlimit.quant;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.qlimit.kernel.Kernels;
import org.qlimit.kernel.LpTerms;
import org.qlimit.util.Check;
import org.qlimit.util.Parallel;

/**
 * Range observers (ALGORITHMS.md §2). Each is a pure function of a tensor and returns immutable
 * parameters; none keeps state between calls (the references' observers are stateful modules).
 *
 * <p>Layout: {@code x} holds {@code channels · channelSize} elements viewed as (channels,
 * channelSize), channel on axis 0; {@code channelSize = x.length / channels}. Per-tensor:
 * {@code channels = 1}.
 *
 * <p>Scores: mean over the channel's elements of |x − x̂|^2.4, where x̂ is {@link FakeQuant}'s
 * float32 fake quantization under the candidate's {@link QParams#fromRange} parameters and
 * |x − x̂| is the float32 difference. The sum is {@link Kernels#lpSum} ({@link
 * org.qlimit.kernel.LpTerms}: float32 terms from a division-free d^2.4 within about one ulp, in
 * chunked 16-lane float sums added into a double), taken over the channel's nonzero elements in
 * index order (a zero element contributes nothing: every fromRange candidate maps 0 to 0), then
 * divided by the channel's element count. (The references reduce in float32 in torch's order;
 * ties and near-ties may therefore resolve differently in rare cases.) The exponent 2.4 is the
 * LAPQ choice (Nahshan et al. 2019) used by both references.
 *
 * <p>Every search takes the {@link Kernels} that compute the sums; channels (or, for a single
 * large channel, candidates) are independent outputs split across the kernels' threads, so no
 * result depends on the thread count or the vector width.
 */
public final class Observers {
  private Observers() {}

  /** Exponent of the Lp score. */
  public static final double P = 2.4;

  /** Number of shrink steps of {@link #shrinkLp} (BRECQ quant_layer.py l.120). */
  public static final int SHRINK_STEPS = 80;

  /** Number of width candidates of {@link #gridLp} (QDrop observer.py l.127). */
  public static final int GRID_CANDIDATES = 100;

  /** Sign structure of a tensor, QDrop's {@code one_side_dist} (observer.py l.205–206). */
  public enum Side {
    /** All elements ≥ 0 (an all-zero tensor counts as positive). */
    POSITIVE,
    /** All elements ≤ 0 and some < 0. */
    NEGATIVE,
    /** Both signs present. */
    TWO_SIDED;

    /**
     * 'pos' if min(x) ≥ 0, else 'neg' if max(x) ≤ 0, else two-sided, over the whole tensor (all
     * channels together), as QDrop decides it once, on the first batch it observes.
     */
    public static Side of(float[] x) {
      Check.arg(x.length > 0, "Side.of: empty tensor");
      float mn = Float.POSITIVE_INFINITY;
      float mx = Float.NEGATIVE_INFINITY;
      for (float v : x) {
        mn = Math.min(mn, v);
        mx = Math.max(mx, v);
      }
      return mn >= 0f ? POSITIVE : mx <= 0f ? NEGATIVE : TWO_SIDED;
    }
  }

  // ---------------------------------------------------------------- min-max

  /** Per-channel [min, max] of x. x: Not modified. */
  public static QRange minMaxRange(float[] x, int channels) {
    return minMaxOf(x, channelSize("minMaxRange", x, channels), channels);
  }

  /** {@link #minMaxRange} on an already checked tensor of channelSize {@code cs}. */
  private static QRange minMaxOf(float[] x, int cs, int channels) {
    float[] lo = new float[channels];
    float[] hi = new float[channels];
    for (int c = 0; c < channels; c++) {
      float mn = Float.POSITIVE_INFINITY;
      float mx = Float.NEGATIVE_INFINITY;
      for (int i = c * cs; i < (c + 1) * cs; i++) {
        mn = Math.min(mn, x[i]);
        mx = Math.max(mx, x[i]);
      }
      lo[c] = mn;
      hi[c] = mx;
    }
    return new QRange(lo, hi);
  }

  /** Min-max observer: {@code QParams.fromRange(min, max)} per channel (ALGORITHMS.md §2). */
  public static QParams minMax(float[] x, int channels, QScheme scheme) {
    return minMaxRange(x, channels).toQParams(scheme);
  }

  // ---------------------------------------------------------------- shrink-Lp (BRECQ)

  /**
   * BRECQ's "mse" range search (Li et al., ICLR 2021; BRECQ quant_layer.py l.116–130;
   * ALGORITHMS.md §2), independently per channel (BRECQ recurses per channel, l.88–89):
   *
   * <pre>
   *   for i = 0..79:  f = (float)(1 − 0.01·i);  [lo_i, hi_i] = [min·f, max·f]   (float32)
   *                   score_i = mean |x − x̂(fromRange(lo_i, hi_i))|^2.4
   *   keep the first i with the strictly smallest score
   * </pre>
   *
   * Deviations from BRECQ, both following ALGORITHMS.md §1: every candidate goes through
   * {@link QParams#fromRange}, so 0 is always inside the range and z is clamped (BRECQ uses
   * z = ⌊−lo_i/s⌉ unclamped, which differs only for channels that do not contain 0), and a
   * symmetric scheme uses the symmetric grid (BRECQ's search ignores its {@code sym} flag). The
   * factor 1 − 0.01·i is formed in double and rounded to float, as torch does when multiplying a
   * float32 tensor by a Python scalar.
   *
   * @param x tensor (channels, channelSize). Not modified.
   */
  public static QParams shrinkLp(Kernels k, float[] x, int channels, QScheme scheme) {
    int cs = channelSize("shrinkLp", x, channels);
    QRange range = minMaxOf(x, cs, channels);
    float[] s = new float[channels];
    float[] z = new float[channels];
    forEachChannel(k, channels, (c, inner) -> {
      int off = c * cs;
      float mn = range.lo()[c];
      float mx = range.hi()[c];
      float[] cs1 = new float[SHRINK_STEPS];
      float[] cz = new float[SHRINK_STEPS];
      for (int i = 0; i < SHRINK_STEPS; i++) {
        float f = (float) (1.0 - i * 0.01);
        float lo = mn * f;
        float hi = mx * f;
        cs1[i] = QParams.scaleFor(lo, hi, scheme);
        cz[i] = QParams.zeroPointFor(lo, cs1[i], scheme);
      }
      int i = argBest(k, inner, x, off, cs, cs1, cz, scheme, Double.POSITIVE_INFINITY);
      s[c] = cs1[i];
      z[c] = cz[i];
    });
    return new QParams(s, z, scheme);
  }

  // ---------------------------------------------------------------- grid-Lp (QDrop)

  /**
   * QDrop's {@code MSEObserver} on one tensor: {@link #gridLpRange} with the side taken from this
   * tensor, converted with {@link QParams#fromRange}.
   *
   * @param x tensor (channels, channelSize). Not modified.
   */
  public static QParams gridLp(Kernels k, float[] x, int channels, QScheme scheme) {
    return gridLpRange(k, x, channels, scheme, Side.of(x)).toQParams(scheme);
  }

  /**
   * QDrop's grid search of the Lp-best range (Wei et al., ICLR 2022; QDrop
   * qdrop/quantization/observer.py l.122–213; ALGORITHMS.md §2), per channel. All range
   * arithmetic is float32 in the reference's operation order; scores as in the class comment.
   *
   * <p>1-D search, when {@code side} is one-sided or the scheme is symmetric (l.180–199):
   *
   * <pre>
   *   R = max(|min_c|, max_c);  for i = 1..100:  t = (R / 100) · i
   *   candidate = [0, t] (POSITIVE), [−t, 0] (NEGATIVE), [−t, t] (TWO_SIDED, symmetric)
   * </pre>
   *
   * 2-D search otherwise (l.152–178); per channel (channels &gt; 1) min_c ≤ 0 ≤ max_c is enforced
   * first, per tensor (channels = 1) the raw min and max are used, as in the reference (l.154–160;
   * the two agree unless a later batch is one-sided while the first was not):
   *
   * <pre>
   *   W = max_c − min_c;  for i = 1..100:  w = (W / 100) · i;  d = w / (qmax − qmin)
   *     for zp = qmin..qmax:  candidate = [0 − zp·d, w − zp·d]
   * </pre>
   *
   * Each candidate is scored under {@code fromRange(candidate)} (QDrop's {@code loss_fx} calls
   * {@code calculate_qparams}, l.138–150); the first strictly smaller score wins (i outer, zp
   * inner), starting from QDrop's initial best score 1e10 with fallback range [min_c, max_c].
   *
   * <p>{@code side} is an argument because QDrop fixes {@code one_side_dist} from the first batch
   * it observes (l.205) and keeps it for later batches: pass {@code Side.of(firstBatch)} for every
   * batch and merge the returned ranges with {@link QRange#merge}.
   *
   * @param x tensor (channels, channelSize). Not modified.
   */
  public static QRange gridLpRange(Kernels k, float[] x, int channels, QScheme scheme,
      Side side) {
    int cs = channelSize("gridLpRange", x, channels);
    Check.arg(side != null, "gridLpRange: side is null");
    float[] bestLo = new float[channels];
    float[] bestHi = new float[channels];
    boolean oneDim = side != Side.TWO_SIDED || scheme.symmetric();
    QRange range = minMaxOf(x, cs, channels);
    forEachChannel(k, channels, (c, inner) -> {
      int off = c * cs;
      float mn = range.lo()[c];
      float mx = range.hi()[c];
      float[] best = oneDim
          ? search1d(k, inner, x, off, cs, mn, mx, scheme, side)
          : channels > 1
              ? search2d(k, inner, x, off, cs, Math.min(mn, 0f), Math.max(mx, 0f), scheme)
              : search2d(k, inner, x, off, cs, mn, mx, scheme);
      bestLo[c] = best[0];
      bestHi[c] = best[1];
    });
    return new QRange(bestLo, bestHi);
  }

  /** The search of one channel; {@code threads} is what it may use for its candidates. */
  private interface ChannelSearch {
    void run(int channel, int threads);
  }

  /**
   * Channels are independent outputs: several channels are split across the kernels' threads
   * (each scoring its candidates on one thread); a single channel gets all threads for its
   * candidates instead. No nesting, and no result depends on the split.
   */
  private static void forEachChannel(Kernels k, int channels, ChannelSearch search) {
    int threads = k.config().threads();
    if (channels == 1) {
      search.run(0, threads);
    } else {
      Parallel.forEach(threads, channels, c -> search.run(c, 1));
    }
  }

  /** QDrop's initial best score ({@code torch.zeros_like(x_min) + 1e10}, float32). */
  private static final double INITIAL_BEST = 1e10f;

  private static float[] search1d(Kernels k, int threads,
      float[] x, int off, int cs, float mn, float mx, QScheme scheme, Side side) {
    float range = Math.max(Math.abs(mn), mx);
    float[] best = {mn, mx};
    float[] los = new float[GRID_CANDIDATES];
    float[] his = new float[GRID_CANDIDATES];
    float[] scs = new float[GRID_CANDIDATES];
    float[] zps = new float[GRID_CANDIDATES];
    for (int i = 1; i <= GRID_CANDIDATES; i++) {
      float t = range / GRID_CANDIDATES * i;
      los[i - 1] = side == Side.POSITIVE ? 0f : -t;
      his[i - 1] = side == Side.NEGATIVE ? 0f : t;
      scs[i - 1] = QParams.scaleFor(los[i - 1], his[i - 1], scheme);
      zps[i - 1] = QParams.zeroPointFor(los[i - 1], scs[i - 1], scheme);
    }
    int i = argBest(k, threads, x, off, cs, scs, zps, scheme, INITIAL_BEST);
    if (i >= 0) {
      best[0] = los[i];
      best[1] = his[i];
    }
    return best;
  }

  private static float[] search2d(Kernels k, int threads,
      float[] x, int off, int cs, float mn, float mx, QScheme scheme) {
    float width = mx - mn;
    float[] best = {mn, mx};
    int levels = scheme.qmax() - scheme.qmin() + 1;
    int n = GRID_CANDIDATES * levels;
    float[] los = new float[n];
    float[] his = new float[n];
    float[] scs = new float[n];
    float[] zps = new float[n];
    int c = 0;
    for (int i = 1; i <= GRID_CANDIDATES; i++) {
      float w = width / GRID_CANDIDATES * i;
      float d = w / (float) scheme.steps();
      for (int zp = scheme.qmin(); zp <= scheme.qmax(); zp++, c++) {
        float shift = zp * d;
        los[c] = 0f - shift;
        his[c] = w - shift;
        scs[c] = QParams.scaleFor(los[c], his[c], scheme);
        zps[c] = QParams.zeroPointFor(los[c], scs[c], scheme);
      }
    }
    int i = argBest(k, threads, x, off, cs, scs, zps, scheme, INITIAL_BEST);
    if (i >= 0) {
      best[0] = los[i];
      best[1] = his[i];
    }
    return best;
  }

  // ---------------------------------------------------------------- score

  /**
   * The winning candidate (scale, zero point) on x[off, off+len): the first index whose mean Lp
   * score (the kernels' Lp sum over the nonzero elements, divided by len; see the class comment)
   * is strictly below {@code initial} and below every earlier candidate's, as a loop over all
   * scores in index order finds it; -1 when no score is below initial.
   *
   * <p>Not every score is computed in full. The Lp terms are ≥ 0, so the running total over the
   * first chunks of a sum ({@link Kernels#lpSumUpTo}) never exceeds the full sum: a candidate
   * whose running total already gives a mean above a score computed in full cannot be the
   * minimum, nor tie with it, and is dropped there. To find a low score early, the candidates
   * are first scored on a prefix of about 1/16 of the elements (whole chunks, so each prefix sum
   * is also a running total of the full sum) and then taken in increasing order of that prefix
   * score. The set of dropped candidates depends on the order in which threads finish (they
   * share the lowest score so far), the winner does not: every candidate with the minimum score
   * is computed in full. Candidates are split across {@code threads}.
   */
  static int argBest(Kernels k, int threads, float[] x, int off, int len, float[] sc, float[] zp,
      QScheme scheme, double initial) {
    int n = sc.length;
    int qmin = scheme.qmin();
    int qmax = scheme.qmax();
    for (int i = 0; i < n; i++) {
      Check.state(FakeQuant.fakeQuant1(0f, sc[i], zp[i], qmin, qmax) == 0f,
          "Lp score: candidate (s=%s, z=%s) does not map 0 to 0", sc[i], zp[i]);
    }
    double[] scores = new double[n];
    if (len > 0) {
      float[] nz = nonZeros(x, off, len);
      int t = nz.length >= PARALLEL_MIN ? threads : 1;
      int chunks = (nz.length + LpTerms.CHUNK - 1) / LpTerms.CHUNK;
      if (chunks < PRUNE_MIN_CHUNKS) {
        Parallel.forEach(t, n, i -> scores[i] = k.lpSum(nz, 0, nz.length, sc[i], zp[i], qmin,
            qmax) / len);
      } else {
        prunedScores(k, t, nz, len, sc, zp, qmin, qmax, chunks / PREFIX_PARTS, scores);
      }
    }
    int best = -1;
    double bestScore = initial;
    for (int i = 0; i < n; i++) {
      if (scores[i] < bestScore) {
        bestScore = scores[i];
        best = i;
      }
    }
    return best;
  }

  /** Below this many chunks of nonzero elements every score is computed in full. */
  private static final int PRUNE_MIN_CHUNKS = 32;

  /** The prefix that orders the candidates is 1/PREFIX_PARTS of the chunks. */
  private static final int PREFIX_PARTS = 16;

  /**
   * scores[i] = the mean Lp score of candidate i, or +∞ for a candidate whose score is above
   * another's (see {@link #argBest}); the prefix is the first {@code prefixChunks} chunks of nz.
   */
  private static void prunedScores(Kernels k, int threads, float[] nz, int len, float[] sc,
      float[] zp, int qmin, int qmax, int prefixChunks, double[] scores) {
    int n = sc.length;
    int prefixLen = prefixChunks * LpTerms.CHUNK;
    double[] prefix = new double[n];
    Parallel.forEach(threads, n,
        i -> prefix[i] = k.lpSum(nz, 0, prefixLen, sc[i], zp[i], qmin, qmax) / len);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> prefix[a] != prefix[b]
        ? Double.compare(prefix[a], prefix[b]) : Integer.compare(a, b));
    // the lowest score computed in full so far; scores are ≥ 0, so their bits order as they do
    AtomicLong lowest = new AtomicLong(Double.doubleToRawLongBits(Double.POSITIVE_INFINITY));
    AtomicInteger next = new AtomicInteger();
    Parallel.forEach(threads, threads, w -> {
      for (int j = next.getAndIncrement(); j < n; j = next.getAndIncrement()) {
        int i = order[j];
        double low = Double.longBitsToDouble(lowest.get());
        scores[i] = Double.POSITIVE_INFINITY;
        if (prefix[i] > low) {
          continue;
        }
        // total > limit ⇒ total / len > low: the limit is above low·len by far more than the
        // rounding of the product and of the division
        double limit = low * len * (1 + 0x1p-40);
        double total = k.lpSumUpTo(nz, 0, nz.length, sc[i], zp[i], qmin, qmax, limit);
        if (total <= limit) {
          scores[i] = total / len;
          lowest.accumulateAndGet(Double.doubleToRawLongBits(scores[i]), Math::min);
        }
      }
    });
  }

  /** The nonzero elements of x[off, off+len) in index order. */
  private static float[] nonZeros(float[] x, int off, int len) {
    int nonZero = 0;
    for (int i = off; i < off + len; i++) {
      if (x[i] != 0f) {
        nonZero++;
      }
    }
    float[] nz = new float[nonZero];
    int j = 0;
    for (int i = off; i < off + len; i++) {
      if (x[i] != 0f) {
        nz[j++] = x[i];
      }
    }
    return nz;
  }

  private static final int PARALLEL_MIN = 1 << 12;

  private static int channelSize(String op, float[] x, int channels) {
    Check.arg(x != null, "%s: x is null", op);
    Check.positive(op + ": channels", channels);
    Check.arg(x.length > 0 && x.length % channels == 0,
        "%s: %d elements do not split into %d channels", op, x.length, channels);
    Check.finite(op, "x", x, 0, x.length);
    return x.length / channels;
  }
}
