package org.qlimit.kernel;

import org.qlimit.util.NumericsConfig;

/**
 * The integer loops of the integer reference path (docs/INTEGER.md), over flat {@code int[]}
 * arrays in row-major NCHW order.
 *
 * <p>Two implementations: {@link ScalarIntKernels}, plain loops that are the definition, and
 * {@link SimdIntKernels}, the Vector API version. Integer addition and multiplication are exact
 * (and associative modulo 2^32), so every implementation, vector width and thread count gives the
 * same bits; the twin tests hold SIMD at 128, 256 and 512 bits and 1..4 threads to the scalar
 * reference. Threads split batch items only.
 *
 * <p>Conventions as in {@link Kernels}: outputs first, never aliased with an input; sizes are
 * checked before any index is touched; the leading output array is Modified (overwritten), every
 * other array Not modified.
 */
public interface IntKernels {

  /** Scalar when {@code vectorBits == 0}, else SIMD of that width. */
  static IntKernels of(NumericsConfig cfg) {
    return cfg.vectorBits() == 0 ? new ScalarIntKernels(cfg.threads()) : new SimdIntKernels(cfg);
  }

  NumericsConfig config();

  /**
   * int32 convolution: acc[n, co, oy, ox] = bias[co] + Σ_{ci, ky, kx} w[co, ci, ky, kx] ·
   * x[n, g·cin/groups + ci, oy·stride − pad + ky, ox·stride − pad + kx], with g = co / (cout /
   * groups) and positions outside the image contributing 0. All arithmetic in int32 (two's
   * complement, wrapping); callers bound the operands so that no partial sum overflows, and then
   * the result is the exact sum whatever the order.
   *
   * @param acc (n, cout, ho, wo). Modified.
   * @param x (n, cin, h, w), zero-point-subtracted activations. Not modified.
   * @param w (cout, cin/groups, kh, kw), zero-point-subtracted weights. Not modified.
   * @param bias (cout) int32 bias, or null for none. Not modified.
   */
  void conv(int[] acc, int[] x, int[] w, int[] bias, ConvShape s);

  /**
   * Requantization of one tensor to an activation site: for element i of channel c,
   * q[i] = clamp(zero + roundShift((int64) v[i] · m0[c], shift[c]), lo, hi), in int64 before the
   * clamp ({@link FixedPoint#roundShift}).
   *
   * @param q (n, channels, plane). Modified.
   * @param v (n, channels, plane). Not modified.
   * @param m0 (channels) Q31 mantissas. Not modified.
   * @param shift (channels) right shifts, 1..62. Not modified.
   */
  void requantize(int[] q, int[] v, int[] m0, int[] shift, int zero, int lo, int hi, int n,
      int channels, int plane);

  /**
   * Requantization of a residual sum: t = roundShift(a[i]·am0[c], ashift[c]) +
   * roundShift(b[i]·bm0[c], bshift[c]) in int64 (each term at 2^−frac of the output step), then
   * q[i] = clamp(zero + roundShift(t, frac), lo, hi).
   *
   * @param q (n, channels, plane). Modified.
   * @param a (n, channels, plane). Not modified.
   * @param b (n, channels, plane). Not modified.
   * @param frac fraction bits of t, 1..62
   */
  void requantizeSum(int[] q, int[] a, int[] am0, int[] ashift, int[] b, int[] bm0, int[] bshift,
      int frac, int zero, int lo, int hi, int n, int channels, int plane);
}
