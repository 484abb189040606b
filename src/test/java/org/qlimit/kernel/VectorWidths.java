package org.qlimit.kernel;

/**
 * The JUnit tag of the test classes that run the 128- or 512-bit kernels (twin tests, the
 * determinism matrix). Surefire runs them in a JVM of their own (execution {@code vector-widths}
 * in pom.xml): when one JVM compiles several vector shapes of one element type, the type profiles
 * of the Vector API's shared methods see more than one class and C2 may compile the default-width
 * kernels with boxed vectors (BENCHMARKS.md, fifth round), which made the rest of the suite run
 * several times slower than it does in the product.
 */
public final class VectorWidths {
  /** Tag value used with {@code @Tag}. */
  public static final String TAG = "vector-widths";

  private VectorWidths() {}
}
