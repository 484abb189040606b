package org.qlimit.kernel;

import org.qlimit.util.Check;

/**
 * Precondition checks shared by {@link ScalarKernels} and {@link SimdKernels}: every kernel calls
 * one of these before touching an index, so a bad call fails with an IllegalArgumentException that
 * names the operation and the shapes, never with an ArrayIndexOutOfBoundsException.
 */
final class Pre {
  private Pre() {}

  static void gemm(String op, float[] c, float[] a, float[] b, int m, int k, int n) {
    Check.arg(m >= 0 && k >= 0 && n >= 0, "%s: negative size m=%d k=%d n=%d", op, m, k, n);
    Check.length(op, "a", a, (long) m * k);
    Check.length(op, "b", b, (long) k * n);
    Check.length(op, "c", c, (long) m * n);
    Check.noAlias(op, c, a, "a");
    Check.noAlias(op, c, b, "b");
  }

  static void convForward(float[] y, float[] x, float[] w, float[] bias, ConvShape s) {
    String op = "conv2dForward " + s;
    notNull(op, s);
    Check.length(op, "x", x, s.inputSize());
    Check.length(op, "w", w, s.weightSize());
    Check.length(op, "y", y, s.outputSize());
    if (bias != null) {
      Check.length(op, "bias", bias, s.cout());
      Check.noAlias(op, y, bias, "bias");
    }
    Check.noAlias(op, y, x, "x");
    Check.noAlias(op, y, w, "w");
  }

  static void convBackwardData(float[] dx, float[] dy, float[] w, ConvShape s) {
    String op = "conv2dBackwardData " + s;
    notNull(op, s);
    Check.length(op, "dx", dx, s.inputSize());
    Check.length(op, "dy", dy, s.outputSize());
    Check.length(op, "w", w, s.weightSize());
    Check.noAlias(op, dx, dy, "dy");
    Check.noAlias(op, dx, w, "w");
  }

  static void convBackwardWeight(float[] dw, float[] db, float[] dy, float[] x, ConvShape s) {
    String op = "conv2dBackwardWeight " + s;
    notNull(op, s);
    Check.length(op, "dw", dw, s.weightSize());
    Check.length(op, "dy", dy, s.outputSize());
    Check.length(op, "x", x, s.inputSize());
    Check.noAlias(op, dw, dy, "dy");
    Check.noAlias(op, dw, x, "x");
    if (db != null) {
      Check.length(op, "db", db, s.cout());
      Check.noAlias(op, db, dy, "dy");
      Check.noAlias(op, db, x, "x");
      Check.noAlias(op, db, dw, "dw");
    }
  }

  static void linear(String op, float[] out, float[] in1, String n1, float[] in2, String n2,
      long need1, long need2, long needOut, String outName) {
    Check.length(op, n1, in1, need1);
    Check.length(op, n2, in2, need2);
    Check.length(op, outName, out, needOut);
    Check.noAlias(op, out, in1, n1);
    Check.noAlias(op, out, in2, n2);
  }

  static void sizes(String op, int... v) {
    for (int x : v) {
      Check.arg(x >= 0, "%s: negative size in %s", op, Check.shape(v));
    }
  }

  /** Elementwise ops: all arrays need {@code len} elements; aliasing is allowed. */
  static void elementwise(String op, int len, float[]... arrays) {
    Check.arg(len >= 0, "%s: negative length %d", op, len);
    for (int i = 0; i < arrays.length; i++) {
      Check.length(op, "argument " + i, arrays[i], len);
    }
  }

  static void range(String op, float[] x, int off, int len) {
    Check.arg(off >= 0 && len >= 0, "%s: negative offset %d or length %d", op, off, len);
    Check.length(op, "x", x, (long) off + len);
  }

  private static void notNull(String op, ConvShape s) {
    Check.arg(s != null, "%s: shape is null", op);
  }

  static void gemmBatched(float[] c, float[] a, float[] b, int batch, int m, int k, int n) {
    String op = "gemmBatched";
    Check.arg(batch >= 0 && m >= 0 && k >= 0 && n >= 0,
        "%s: negative size batch=%d m=%d k=%d n=%d", op, batch, m, k, n);
    Check.length(op, "a", a, (long) batch * m * k);
    Check.length(op, "b", b, (long) batch * k * n);
    Check.length(op, "c", c, (long) batch * m * n);
    Check.noAlias(op, c, a, "a");
    Check.noAlias(op, c, b, "b");
  }

  static void layerNorm(float[] y, float[] xhat, float[] rstd, float[] x, float[] gamma,
      float[] beta, int rows, int h) {
    String op = "layerNorm";
    sizes(op, rows, h);
    long n = (long) rows * h;
    Check.length(op, "x", x, n);
    Check.length(op, "y", y, n);
    Check.length(op, "xhat", xhat, n);
    Check.length(op, "rstd", rstd, rows);
    Check.length(op, "gamma", gamma, h);
    Check.length(op, "beta", beta, h);
    Check.noAlias(op, y, x, "x");
    Check.noAlias(op, xhat, x, "x");
  }

  static void layerNormBackward(float[] dx, float[] dgamma, float[] dbeta, float[] dy,
      float[] xhat, float[] rstd, float[] gamma, int rows, int h) {
    String op = "layerNormBackward";
    sizes(op, rows, h);
    long n = (long) rows * h;
    Check.length(op, "dx", dx, n);
    Check.length(op, "dy", dy, n);
    Check.length(op, "xhat", xhat, n);
    Check.length(op, "rstd", rstd, rows);
    Check.length(op, "gamma", gamma, h);
    if (dgamma != null) {
      Check.length(op, "dgamma", dgamma, h);
    }
    if (dbeta != null) {
      Check.length(op, "dbeta", dbeta, h);
    }
    Check.noAlias(op, dx, dy, "dy");
  }

  static void maskedSoftmax(float[] probs, float[] logits, int[] keyMask, int rows, int c,
      int rowsPerMask) {
    String op = "maskedSoftmax";
    sizes(op, rows, c);
    Check.arg(rowsPerMask > 0 && rows % rowsPerMask == 0,
        "%s: %d rows are not a multiple of %d rows per mask", op, rows, rowsPerMask);
    Check.length(op, "logits", logits, (long) rows * c);
    Check.length(op, "probs", probs, (long) rows * c);
    Check.arg(keyMask != null && keyMask.length == (long) rows / rowsPerMask * c,
        "%s: key mask has %d elements, expected %d", op, keyMask == null ? 0 : keyMask.length,
        (long) rows / rowsPerMask * c);
    for (int m = 0; m < rows / rowsPerMask; m++) {
      boolean any = false;
      for (int j = 0; j < c; j++) {
        any |= keyMask[m * c + j] != 0;
      }
      Check.arg(any, "%s: mask row %d masks every column", op, m);
    }
    Check.noAlias(op, probs, logits, "logits");
  }

  // The activation-quantization checks run on every call of a hot path: they format their
  // messages only when they fail (the varargs form of Check.arg would box every call).

  static void fakeQuantDrop(float[] y, boolean[] keep, float[] x, int n, int qmin, int qmax,
      float prob) {
    String op = "fakeQuantDrop";
    count(op, n);
    Check.length(op, "x", x, n);
    Check.length(op, "y", y, n);
    keep(op, keep, n);
    levels(op, qmin, qmax);
    prob(op, prob);
  }

  static void fakeQuantDropBackward(float[] dx, double[] terms, float[] dy, boolean[] keep,
      float[] x, int n, int qmin, int qmax) {
    String op = "fakeQuantDropBackward";
    count(op, n);
    Check.length(op, "x", x, n);
    Check.length(op, "dy", dy, n);
    keep(op, keep, n);
    if (terms != null && terms.length < n) {
      throw new IllegalArgumentException(op + ": terms has " + terms.length
          + " elements, needs at least " + n);
    }
    levels(op, qmin, qmax);
    if (dx != null) {
      Check.length(op, "dx", dx, n);
      Check.noAlias(op, dx, dy, "dy");
      Check.noAlias(op, dx, x, "x");
    }
  }

  static void qdropMix(float[] out, float[] xq, float[] xfp, int n, float prob) {
    String op = "qdropMix";
    count(op, n);
    Check.length(op, "xq", xq, n);
    Check.length(op, "xfp", xfp, n);
    Check.length(op, "out", out, n);
    prob(op, prob);
  }

  private static void count(String op, int n) {
    if (n < 0) {
      throw new IllegalArgumentException(op + ": negative length " + n);
    }
  }

  private static void keep(String op, boolean[] keep, int n) {
    if (keep != null && keep.length < n) {
      throw new IllegalArgumentException(op + ": keep has " + keep.length
          + " elements, needs at least " + n);
    }
  }

  private static void levels(String op, int qmin, int qmax) {
    if (qmin > qmax) {
      throw new IllegalArgumentException(op + ": qmin " + qmin + " > qmax " + qmax);
    }
  }

  private static void prob(String op, float prob) {
    if (!(prob >= 0f && prob <= 1f)) {
      throw new IllegalArgumentException(op + ": keep probability " + prob + " outside [0, 1]");
    }
  }
}
