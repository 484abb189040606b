package org.qlimit.io;

/**
 * Exact conversions between float32 and the 16-bit formats of safetensors.
 *
 * <p>IEEE binary16 (F16): 1 sign, 5 exponent (bias 15), 10 mantissa bits. bfloat16 (BF16): the
 * upper 16 bits of a float32. Widening to float is exact for every input (subnormals included;
 * NaN payloads are kept). Narrowing rounds to nearest, ties to even; values at or above 65520 in
 * magnitude become infinity in F16; NaN stays NaN (quiet).
 */
final class HalfFloats {
  private HalfFloats() {}

  /** The float with the value of the F16 bit pattern {@code h} (low 16 bits used). Exact. */
  static float f16ToFloat(int h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0) {
      // zero or subnormal: mant * 2^-24, exact in float
      float v = mant * 0x1p-24f;
      return sign == 0 ? v : -v;
    }
    if (exp == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** The F16 bit pattern nearest to {@code f} (ties to even), in the low 16 bits. */
  static int floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int abs = bits & 0x7fffffff;
    if (abs >= 0x7f800000) {
      return abs > 0x7f800000 ? sign | 0x7e00 | ((abs >>> 13) & 0x3ff) : sign | 0x7c00;
    }
    if (abs >= 0x477ff000) { // >= 65520: rounds to infinity
      return sign | 0x7c00;
    }
    if (abs >= 0x38800000) { // >= 2^-14: normal half
      int e = (abs >>> 23) - 127 + 15;
      int m = abs & 0x7fffff;
      int h = (e << 10) | (m >>> 13);
      int rem = m & 0x1fff;
      if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
        h++; // a carry into the exponent is the correct result
      }
      return sign | h;
    }
    // subnormal half: count units of 2^-24 (scaling by a power of two is exact), ties to even;
    // 1024 units is the smallest normal, whose bit pattern is also 1024.
    float units = Float.intBitsToFloat(abs) * 0x1p24f;
    return sign | (int) Math.rint(units);
  }

  /** The float of the BF16 bit pattern {@code b}. Exact. */
  static float bf16ToFloat(int b) {
    return Float.intBitsToFloat((b & 0xffff) << 16);
  }

  /** The BF16 bit pattern nearest to {@code f} (ties to even). */
  static int floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7fffffff) > 0x7f800000) {
      return ((bits >>> 16) | 0x40) & 0xffff;
    }
    int rounded = bits + 0x7fff + ((bits >>> 16) & 1);
    return (rounded >>> 16) & 0xffff;
  }
}
