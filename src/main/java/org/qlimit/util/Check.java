package org.qlimit.util;

import java.util.Arrays;

/** Preconditions that throw with a message naming what was wrong. */
public final class Check {
  private Check() {}

  /** Throws IllegalArgumentException with a formatted message when {@code ok} is false. */
  public static void arg(boolean ok, String fmt, Object... args) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(fmt, args));
    }
  }

  // Overloads without the varargs array, which the varargs form allocates on every call, even
  // when the check passes. (No primitive overloads: a boxed or char argument would silently bind
  // to them; checks in hot loops with numbers test first and format only on failure.)

  /** {@link #arg(boolean, String, Object...)} without arguments (no array per call). */
  public static void arg(boolean ok, String fmt) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(fmt));
    }
  }

  /** {@link #arg(boolean, String, Object...)} with one string argument (no array per call). */
  public static void arg(boolean ok, String fmt, String a) {
    if (!ok) {
      throw new IllegalArgumentException(String.format(fmt, a));
    }
  }

  /** Throws IllegalStateException with a formatted message when {@code ok} is false. */
  public static void state(boolean ok, String fmt, Object... args) {
    if (!ok) {
      throw new IllegalStateException(String.format(fmt, args));
    }
  }

  /** Requires {@code a.length >= need}; names the operation and the argument. */
  public static void length(String op, String name, float[] a, long need) {
    if (a == null) {
      throw new IllegalArgumentException(op + ": " + name + " is null");
    }
    if (a.length < need) {
      throw new IllegalArgumentException(
          op + ": " + name + " has " + a.length + " elements, needs at least " + need);
    }
  }

  /** Requires that output and input arrays are different objects. */
  public static void noAlias(String op, float[] out, float[] in, String inName) {
    if (out == in) {
      throw new IllegalArgumentException(op + ": output must not alias input " + inName);
    }
  }

  /** Requires every element to be finite. */
  public static void finite(String op, String name, float[] a, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (!Float.isFinite(a[i])) {
        throw new IllegalArgumentException(
            op + ": " + name + "[" + (i - off) + "] is " + a[i] + " (finite values required)");
      }
    }
  }

  /** Index of the first NaN or ±Inf of {@code a}, or −1 when all are finite (subnormals are). */
  public static int firstNonFinite(float[] a) {
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(a[i])) {
        return i;
      }
    }
    return -1;
  }

  /** "NaN", "+Inf", "-Inf" for a non-finite value, else its decimal form. */
  public static String describe(float v) {
    if (Float.isNaN(v)) {
      return "NaN";
    }
    if (Float.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Float.toString(v);
  }

  /** "NaN", "+Inf", "-Inf" for a non-finite value, else its decimal form. */
  public static String describe(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    return Double.toString(v);
  }

  public static String shape(int... dims) {
    return Arrays.toString(dims);
  }

  public static int positive(String what, int v) {
    arg(v > 0, "%s must be positive, got %d", what, v);
    return v;
  }

  public static int nonNegative(String what, int v) {
    arg(v >= 0, "%s must be >= 0, got %d", what, v);
    return v;
  }
}
