package org.qlimit.quant;

import org.qlimit.util.Check;
import org.qlimit.util.CounterRng;
import org.qlimit.util.Streams;

/**
 * QDrop's random dropping of activation quantization (Wei et al., ICLR 2022; ALGORITHMS.md §4.2).
 *
 * <p>Convention (the reference's, {@code torch.where(torch.rand_like(x) < drop_prob, x_quant,
 * x_fp)}, QDrop fake_quant.py l.138 and recon.py l.151): {@code prob} is the probability that an
 * element KEEPS its quantized value; otherwise its full-precision value is used. So prob = 1 means
 * "always quantized" (dropping off, the "joint BRECQ" ablation), prob = 0.5 is QDrop's default,
 * and prob = 0 would be "never quantized".
 *
 * <p>Randomness: element {@code i} (flat index into the mixed tensor, e.g. the (32, C, H, W)
 * minibatch) uses
 *
 * <pre>
 *   u_i = CounterRng.uniform(siteSeed(seed, site), QDROP_MASK.id, step, i),   keep_i = u_i &lt; prob
 * </pre>
 *
 * where {@code site} names the mixing point (for example the unit's input or one activation
 * quantizer of the unit; compose it with {@link #site}) and {@code step} is the iteration. The
 * mask is a pure function of these counters, so any split of [0, n) into ranges, in any order or
 * thread, gives the same result (ALGORITHMS.md §7).
 *
 * <p>Inside an activation quantizer the mix is {@code mix(out, fakeQuant(x), x, ...)}; in the
 * backward pass the gradient reaching the quantizer (and so its LSQ scale gradient) is
 * {@code keep·dy}, and {@code (1 − keep)·dy} flows straight to x ({@link #mixBackward}).
 */
public final class QDropMask {
  private QDropMask() {}

  /** Default probability of keeping the quantized value (QDrop config {@code drop_prob: 0.5}). */
  public static final float DEFAULT_PROB = 0.5f;

  /** A site id from a reconstruction-unit index and a mixing point inside it (0 = unit input). */
  public static long site(int unit, int point) {
    Check.nonNegative("site: unit", unit);
    Check.nonNegative("site: point", point);
    return ((long) unit << 32) | point;
  }

  /** The seed of one site's mask stream: CounterRng.bits(seed, QDROP_MASK, site, 0). */
  public static long siteSeed(long seed, long site) {
    return CounterRng.bits(seed, Streams.QDROP_MASK.id(), site, 0L);
  }

  /**
   * The index-independent part of the mask of (seed, site, step), for the kernels'
   * {@code maskPrefix}: element i keeps its quantized value when
   * {@code CounterRng.uniformAt(prefix(seed, site, step), i) < prob}.
   */
  public static long prefix(long seed, long site, long step) {
    return CounterRng.prefix(siteSeed(seed, site), Streams.QDROP_MASK.id(), step);
  }

  /** Whether element {@code index} keeps its quantized value: u &lt; prob. */
  public static boolean keep(long seed, long site, long step, long index, float prob) {
    return CounterRng.uniform(siteSeed(seed, site), Streams.QDROP_MASK.id(), step, index) < prob;
  }

  /**
   * out[i] = keep_i ? xq[i] : xfp[i] for i in [0, n). Elementwise; out may alias xq or xfp.
   *
   * @param out output. Modified.
   * @param xq quantized values. Not modified (unless aliased).
   * @param xfp full-precision values. Not modified (unless aliased).
   */
  public static void mix(
      float[] out, float[] xq, float[] xfp, long seed, long site, long step, float prob) {
    Check.arg(xq != null, "mix: xq is null");
    mixRange(out, xq, xfp, 0, xq.length, seed, site, step, prob);
  }

  /**
   * {@link #mix} over the flat range [from, to) only; the counter of element i is i, so disjoint
   * ranges can be done separately (by any thread) with the same result as one call.
   */
  public static void mixRange(
      float[] out, float[] xq, float[] xfp, int from, int to, long seed, long site, long step,
      float prob) {
    checkRange("mixRange", xq, from, to, prob);
    Check.length("mixRange", "xfp", xfp, to);
    Check.length("mixRange", "out", out, to);
    long pre = prefix(seed, site, step);
    for (int i = from; i < to; i++) {
      boolean k = CounterRng.uniformAt(pre, i) < prob;
      out[i] = k ? xq[i] : xfp[i];
    }
  }

  /**
   * The mask for [from, to): keep[i] = 1 where the quantized value is kept, else 0.
   *
   * @param keep output. Modified.
   */
  public static void mask(
      byte[] keep, int from, int to, long seed, long site, long step, float prob) {
    checkKeep("mask", keep, from, to);
    checkProb(prob);
    long pre = prefix(seed, site, step);
    for (int i = from; i < to; i++) {
      keep[i] = (byte) (CounterRng.uniformAt(pre, i) < prob ? 1 : 0);
    }
  }

  /**
   * The mix for [from, to) with a mask already drawn by {@link #mask}: out[i] = keep[i] ? xq[i] :
   * xfp[i] (the same values as {@link #mixRange} with the mask's parameters). {@code out} may alias
   * either input.
   *
   * @param out output. Modified in [from, to).
   * @param keep mask from {@link #mask}. Not modified.
   */
  public static void apply(float[] out, float[] xq, float[] xfp, byte[] keep, int from, int to) {
    checkKeep("apply", keep, from, to);
    Check.length("apply", "xq", xq, to);
    Check.length("apply", "xfp", xfp, to);
    Check.length("apply", "out", out, to);
    for (int i = from; i < to; i++) {
      out[i] = keep[i] != 0 ? xq[i] : xfp[i];
    }
  }

  /**
   * Backward of the mix for [from, to); accumulates: dxq[i] += keep[i]·dy[i],
   * dxfp[i] += (1 − keep[i])·dy[i]. Either output may be null (not needed).
   *
   * @param dxq gradient w.r.t. the quantized input. Modified (accumulated).
   * @param dxfp gradient w.r.t. the FP input. Modified (accumulated).
   * @param dy upstream gradient. Not modified.
   * @param keep mask from {@link #mask}. Not modified.
   */
  public static void mixBackward(
      float[] dxq, float[] dxfp, float[] dy, byte[] keep, int from, int to) {
    Check.length("mixBackward", "dy", dy, to);
    checkKeep("mixBackward", keep, from, to);
    if (dxq != null) {
      Check.length("mixBackward", "dxq", dxq, to);
      Check.noAlias("mixBackward", dxq, dy, "dy");
    }
    if (dxfp != null) {
      Check.length("mixBackward", "dxfp", dxfp, to);
      Check.noAlias("mixBackward", dxfp, dy, "dy");
      Check.arg(dxfp != dxq, "mixBackward: dxq and dxfp must differ");
    }
    for (int i = from; i < to; i++) {
      if (keep[i] != 0) {
        if (dxq != null) {
          dxq[i] += dy[i];
        }
      } else if (dxfp != null) {
        dxfp[i] += dy[i];
      }
    }
  }

  private static void checkRange(String op, float[] xq, int from, int to, float prob) {
    Check.length(op, "xq", xq, to);
    checkBounds(op, from, to);
    checkProb(prob);
  }

  // the checks below format their message only when they fail (no boxing per call)

  private static void checkKeep(String op, byte[] keep, int from, int to) {
    if (keep == null || keep.length < to) {
      throw new IllegalArgumentException(op + ": keep needs " + to + " elements");
    }
    checkBounds(op, from, to);
  }

  private static void checkBounds(String op, int from, int to) {
    if (!(0 <= from && from <= to)) {
      throw new IllegalArgumentException(op + ": bad range [" + from + ", " + to + ")");
    }
  }

  private static void checkProb(float prob) {
    if (!(prob >= 0f && prob <= 1f)) {
      throw new IllegalArgumentException("QDropMask: prob " + prob + " outside [0, 1]");
    }
  }
}
