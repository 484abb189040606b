package org.qlimit.io;

import java.util.Optional;

/**
 * The safetensors element types qlimit reads and writes, with their size in bytes. The names are
 * the exact strings of the safetensors header ("F32", "BF16", ...). All data is little-endian.
 */
public enum DType {
  F32(4, true),
  F16(2, true),
  BF16(2, true),
  I64(8, false),
  I32(4, false),
  I8(1, false),
  U8(1, false);

  private final int size;
  private final boolean floating;

  DType(int size, boolean floating) {
    this.size = size;
    this.floating = floating;
  }

  /** Bytes per element. */
  public int size() {
    return size;
  }

  /** True for F32, F16 and BF16 (readable with {@link TensorEntry#asFloats()}). */
  public boolean isFloating() {
    return floating;
  }

  /** The type with this exact header name (case-sensitive), or empty. */
  public static Optional<DType> fromHeaderName(String name) {
    for (DType t : values()) {
      if (t.name().equals(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
