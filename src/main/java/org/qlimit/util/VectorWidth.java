package org.qlimit.util;

/**
 * Holder for the machine's preferred vector width, filled in by the kernel package (the only
 * package that may touch jdk.incubator.vector). Until it is registered, 256 bits is assumed.
 */
public final class VectorWidth {
  private static volatile int preferred = 0;

  private VectorWidth() {}

  /** Called once by the kernel package with {@code FloatVector.SPECIES_PREFERRED.vectorBitSize()}. */
  public static void register(int bits) {
    preferred = Math.min(512, bits);
  }

  static int preferredBits() {
    if (preferred == 0) {
      try {
        Class.forName("org.qlimit.kernel.SimdKernels", true, VectorWidth.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        return 256;
      }
    }
    return preferred == 0 ? 256 : preferred;
  }
}
