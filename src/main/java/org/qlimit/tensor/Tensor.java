package org.qlimit.tensor;

import java.util.Arrays;
import org.qlimit.util.Check;

/**
 * A strided view of flat float storage: (data, offset, shape, strides).
 *
 * <p>Movement operations ({@link #reshape}, {@link #permute}, {@link #slice}) create views and copy
 * nothing; {@link #contiguous()} copies explicitly when the layout is not dense row-major. Kernels
 * work on dense row-major arrays, so ops call {@link #contiguous()} and then {@link #data()}.
 *
 * <p>A tensor's shape and strides are immutable; its storage is shared with its views. Mutating
 * methods ({@link #set}, {@link #fill}) say so in their names.
 */
public final class Tensor {
  private final float[] data;
  private final int offset;
  private final int[] shape;
  private final int[] strides;
  private final int numel;
  private final boolean dense;

  private Tensor(float[] data, int offset, int[] shape, int[] strides) {
    this.data = data;
    this.offset = offset;
    this.shape = shape;
    this.strides = strides;
    this.numel = (int) numel(shape);
    this.dense = offset == 0 && data.length == numel && Arrays.equals(strides,
        rowMajorStrides(shape));
  }

  // ------------------------------------------------------------------ creation
  /** A new zero tensor of the given shape. */
  public static Tensor zeros(int... shape) {
    return new Tensor(new float[Math.toIntExact(numel(shape))], 0, shape.clone(),
        rowMajorStrides(shape));
  }

  /** A new tensor filled with {@code v}. */
  public static Tensor full(float v, int... shape) {
    Tensor t = zeros(shape);
    Arrays.fill(t.data, v);
    return t;
  }

  /** Wraps {@code data} (not copied) as a dense row-major tensor; the length must match. */
  public static Tensor of(float[] data, int... shape) {
    long n = numel(shape);
    if (data.length != n) {
      throw new IllegalArgumentException("Tensor.of: " + data.length + " values do not fill shape "
          + Arrays.toString(shape) + " (" + n + " elements)");
    }
    return new Tensor(data, 0, shape.clone(), rowMajorStrides(shape));
  }

  /** A scalar (shape []). */
  public static Tensor scalar(float v) {
    return new Tensor(new float[] {v}, 0, new int[0], new int[0]);
  }

  /** 0, 1, ..., n−1 as floats. */
  public static Tensor arange(int n) {
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = i;
    }
    return of(d, n);
  }

  public static long numel(int... shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
      }
      n *= d;
      if (n > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape)
            + " has more elements than a Java array holds");
      }
    }
    return n;
  }

  static int[] rowMajorStrides(int[] shape) {
    int[] s = new int[shape.length];
    int acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= Math.max(shape[i], 1);
    }
    return s;
  }

  // ------------------------------------------------------------------ inspection
  public int[] shape() {
    return shape.clone();
  }

  public int dim(int i) {
    return shape[i < 0 ? shape.length + i : i];
  }

  public int rank() {
    return shape.length;
  }

  public int numel() {
    return numel;
  }

  public int[] strides() {
    return strides.clone();
  }

  public int offset() {
    return offset;
  }

  /** True when this view is dense row-major starting at offset 0 and covering the whole array. */
  public boolean isDense() {
    return dense;
  }

  /**
   * The backing array of a dense tensor (see {@link #isDense()}); kernels read and write it
   * directly. Throws for views: call {@link #contiguous()} first.
   */
  public float[] data() {
    if (!dense) {
      throw new IllegalStateException("data(): tensor of shape " + Arrays.toString(shape)
          + " is a strided view; call contiguous() first");
    }
    return data;
  }

  public boolean sameShape(Tensor o) {
    return Arrays.equals(shape, o.shape);
  }

  public boolean hasShape(int... s) {
    return Arrays.equals(shape, s);
  }

  private int index(int... idx) {
    Check.arg(idx.length == shape.length, "index rank %d does not match tensor rank %d",
        idx.length, shape.length);
    int p = offset;
    for (int i = 0; i < idx.length; i++) {
      if (idx[i] < 0 || idx[i] >= shape[i]) {
        throw new IllegalArgumentException("index " + Arrays.toString(idx)
            + " out of bounds for shape " + Arrays.toString(shape));
      }
      p += idx[i] * strides[i];
    }
    return p;
  }

  public float get(int... idx) {
    return data[index(idx)];
  }

  /** Writes one element (Modified: this tensor and every view sharing its storage). */
  public void set(float v, int... idx) {
    data[index(idx)] = v;
  }

  /** The single value of a one-element tensor. */
  public float item() {
    if (numel != 1) {
      throw new IllegalStateException("item(): tensor of shape " + Arrays.toString(shape)
          + " has " + numel + " elements");
    }
    return data[offset];
  }

  // ------------------------------------------------------------------ movement (views)
  /** A view with a new shape (one dimension may be −1); copies only when not dense. */
  public Tensor reshape(int... newShape) {
    int[] s = newShape.clone();
    int infer = -1;
    long known = 1;
    for (int i = 0; i < s.length; i++) {
      if (s[i] == -1) {
        Check.arg(infer < 0, "reshape: more than one -1 in %s", Arrays.toString(newShape));
        infer = i;
      } else {
        Check.arg(s[i] >= 0, "reshape: negative dimension in %s", Arrays.toString(newShape));
        known *= s[i];
      }
    }
    if (infer >= 0) {
      Check.arg(known > 0 && numel() % known == 0, "reshape: cannot infer -1 in %s for %d elements",
          Arrays.toString(newShape), numel());
      s[infer] = (int) (numel() / known);
    }
    Check.arg(numel(s) == numel(), "reshape: shape %s (%d elements) does not match %s (%d)",
        Arrays.toString(s), numel(s), Arrays.toString(shape), numel());
    Tensor c = isContiguousLayout() ? this : contiguous();
    return new Tensor(c.data, c.offset, s, rowMajorStrides(s));
  }

  private boolean isContiguousLayout() {
    return Arrays.equals(strides, rowMajorStrides(shape));
  }

  /** A view with dimensions reordered: result dim i is this tensor's dim perm[i]. */
  public Tensor permute(int... perm) {
    Check.arg(perm.length == shape.length, "permute: %s does not match rank %d",
        Arrays.toString(perm), shape.length);
    boolean[] seen = new boolean[perm.length];
    int[] s = new int[perm.length];
    int[] st = new int[perm.length];
    for (int i = 0; i < perm.length; i++) {
      Check.arg(perm[i] >= 0 && perm[i] < perm.length && !seen[perm[i]],
          "permute: %s is not a permutation", Arrays.toString(perm));
      seen[perm[i]] = true;
      s[i] = shape[perm[i]];
      st[i] = strides[perm[i]];
    }
    return new Tensor(data, offset, s, st);
  }

  /** A view of rows [from, to) along dimension 0. */
  public Tensor slice(int from, int to) {
    Check.arg(shape.length > 0 && 0 <= from && from <= to && to <= shape[0],
        "slice: [%d, %d) out of range for shape %s", from, to, Arrays.toString(shape));
    int[] s = shape.clone();
    s[0] = to - from;
    return new Tensor(data, offset + from * strides[0], s, strides.clone());
  }

  /** This tensor if dense, else a dense copy. */
  public Tensor contiguous() {
    if (isDense()) {
      return this;
    }
    return copy();
  }

  /** A dense copy that shares nothing with this tensor. */
  public Tensor copy() {
    int n = numel();
    float[] out = new float[n];
    if (isContiguousLayout()) {
      System.arraycopy(data, offset, out, 0, n);
    } else {
      int[] idx = new int[shape.length];
      for (int i = 0; i < n; i++) {
        int p = offset;
        for (int d = 0; d < shape.length; d++) {
          p += idx[d] * strides[d];
        }
        out[i] = data[p];
        for (int d = shape.length - 1; d >= 0; d--) {
          if (++idx[d] < shape[d]) {
            break;
          }
          idx[d] = 0;
        }
      }
    }
    return new Tensor(out, 0, shape.clone(), rowMajorStrides(shape));
  }

  /** Sets every element to v (Modified). Requires a dense tensor. */
  public Tensor fill(float v) {
    Arrays.fill(data(), v);
    return this;
  }

  /** Copies src's values into this tensor (same shape; Modified). */
  public void copyFrom(Tensor src) {
    Check.arg(sameShape(src), "copyFrom: shape %s into %s", Arrays.toString(src.shape),
        Arrays.toString(shape));
    float[] s = src.contiguous().data();
    System.arraycopy(s, 0, data(), 0, s.length);
  }

  @Override
  public String toString() {
    return "Tensor" + Arrays.toString(shape);
  }
}
