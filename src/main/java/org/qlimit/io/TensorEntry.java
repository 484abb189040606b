package org.qlimit.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor of a safetensors file: dtype, shape (row-major, C order) and the raw
 * little-endian bytes exactly as stored.
 *
 * <p>Contract: {@code data.length == product(shape) * dtype.size()} (checked). The arrays are held,
 * not copied: treat them as read-only. Record equality is reference equality on the arrays; use
 * {@link #sameContent} to compare values. Typed views: {@link #asFloats()} for F32/F16/BF16 (F16
 * and BF16 widened exactly), {@link #asLongs()} for I64/I32/U8 (exact widening; U8 unsigned),
 * {@link #asInts()} for I32/U8, {@link #asBytes()} for U8. Asking for another view throws
 * IllegalStateException naming the tensor and its dtype. The factories ({@link #f32} etc.) encode
 * Java arrays; {@link #f16} and {@link #bf16} round to nearest, ties to even.
 */
public record TensorEntry(String name, DType dtype, long[] shape, byte[] data) {

  /** Reserved header key; no tensor may have this name. */
  public static final String METADATA_KEY = "__metadata__";

  public TensorEntry {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("tensor name must be non-empty");
    }
    if (name.equals(METADATA_KEY)) {
      throw new IllegalArgumentException("tensor name " + METADATA_KEY + " is reserved");
    }
    if (dtype == null || shape == null || data == null) {
      throw new IllegalArgumentException("tensor '" + name + "': dtype, shape and data are required");
    }
    long n = elementCount(name, shape);
    if (n > Integer.MAX_VALUE / dtype.size() || n * dtype.size() != data.length) {
      throw new IllegalArgumentException(
          "tensor '" + name + "': shape " + Arrays.toString(shape) + " of " + dtype + " needs "
              + n + " x " + dtype.size() + " bytes, data has " + data.length);
    }
  }

  /** Product of the dims (1 for a scalar); throws for a negative dim or overflow. */
  static long elementCount(String name, long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': negative dimension in shape " + Arrays.toString(shape));
      }
      try {
        n = Math.multiplyExact(n, d);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "tensor '" + name + "': element count of shape " + Arrays.toString(shape) + " overflows");
      }
    }
    return n;
  }

  public static TensorEntry f32(String name, long[] shape, float[] values) {
    ByteBuffer bb = le(values.length * 4);
    bb.asFloatBuffer().put(values);
    return new TensorEntry(name, DType.F32, shape.clone(), bb.array());
  }

  public static TensorEntry f16(String name, long[] shape, float[] values) {
    ByteBuffer bb = le(values.length * 2);
    for (float v : values) {
      bb.putShort((short) HalfFloats.floatToF16(v));
    }
    return new TensorEntry(name, DType.F16, shape.clone(), bb.array());
  }

  public static TensorEntry bf16(String name, long[] shape, float[] values) {
    ByteBuffer bb = le(values.length * 2);
    for (float v : values) {
      bb.putShort((short) HalfFloats.floatToBf16(v));
    }
    return new TensorEntry(name, DType.BF16, shape.clone(), bb.array());
  }

  public static TensorEntry i64(String name, long[] shape, long[] values) {
    ByteBuffer bb = le(values.length * 8);
    bb.asLongBuffer().put(values);
    return new TensorEntry(name, DType.I64, shape.clone(), bb.array());
  }

  public static TensorEntry i32(String name, long[] shape, int[] values) {
    ByteBuffer bb = le(values.length * 4);
    bb.asIntBuffer().put(values);
    return new TensorEntry(name, DType.I32, shape.clone(), bb.array());
  }

  public static TensorEntry u8(String name, long[] shape, byte[] values) {
    return new TensorEntry(name, DType.U8, shape.clone(), values.clone());
  }

  /** Number of elements (product of the shape). */
  public long size() {
    return data.length / dtype.size();
  }

  /** The shape as int[]; throws when a dim exceeds Integer.MAX_VALUE. */
  public int[] intShape() {
    int[] s = new int[shape.length];
    for (int i = 0; i < s.length; i++) {
      if (shape[i] > Integer.MAX_VALUE) {
        throw new IllegalStateException("tensor '" + name + "': dim " + shape[i] + " exceeds int");
      }
      s[i] = (int) shape[i];
    }
    return s;
  }

  /** The values as float32 (F32 as stored; F16/BF16 widened exactly). A new array. */
  public float[] asFloats() {
    int n = (int) size();
    float[] out = new float[n];
    ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case F32 -> bb.asFloatBuffer().get(out);
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.f16ToFloat(bb.getShort(2 * i));
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = HalfFloats.bf16ToFloat(bb.getShort(2 * i));
        }
      }
      default -> throw wrongView("asFloats");
    }
    return out;
  }

  /**
   * The values as long (I64 as stored; I32 and I8 sign-extended; U8 as 0..255). A new array.
   */
  public long[] asLongs() {
    int n = (int) size();
    long[] out = new long[n];
    ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
    switch (dtype) {
      case I64 -> bb.asLongBuffer().get(out);
      case I32 -> {
        for (int i = 0; i < n; i++) {
          out[i] = bb.getInt(4 * i);
        }
      }
      case I8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = data[i];
        }
      }
      case U8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = data[i] & 0xff;
        }
      }
      default -> throw wrongView("asLongs");
    }
    return out;
  }

  /** The values as int (I32 as stored; I8 sign-extended; U8 as 0..255). A new array. */
  public int[] asInts() {
    int n = (int) size();
    int[] out = new int[n];
    switch (dtype) {
      case I32 -> ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
      case I8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = data[i];
        }
      }
      case U8 -> {
        for (int i = 0; i < n; i++) {
          out[i] = data[i] & 0xff;
        }
      }
      default -> throw wrongView("asInts");
    }
    return out;
  }

  /** The raw bytes of a U8 tensor (a copy). */
  public byte[] asBytes() {
    if (dtype != DType.U8) {
      throw wrongView("asBytes");
    }
    return data.clone();
  }

  /** Same name, dtype, shape and bytes. */
  public boolean sameContent(TensorEntry o) {
    return name.equals(o.name) && dtype == o.dtype && Arrays.equals(shape, o.shape)
        && Arrays.equals(data, o.data);
  }

  @Override
  public String toString() {
    return name + " " + dtype + Arrays.toString(shape);
  }

  private IllegalStateException wrongView(String view) {
    return new IllegalStateException(
        "tensor '" + name + "' has dtype " + dtype + "; " + view + "() is not defined for it");
  }

  private static ByteBuffer le(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }
}
