package org.qlimit.kernel;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.qlimit.util.NumericsConfig;

/**
 * The Lp range-search score Σ |x − x̂|^2.4 over n elements (one candidate of an observer), three
 * ways in one run: {@code simd} = {@link Kernels#lpSum} at the preferred width (what the observers
 * use), {@code scalar} = its scalar twin {@link LpTerms#sum} (same bits), and {@code strictPow} =
 * the textbook loop with {@code StrictMath.pow} summed in double (what a straightforward
 * implementation does; not the same bits). Elements/s = n · ops/s.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LpSumBench {
  /** 100 352 = the 16×28×28 output of a ResNet-20 stage-1 layer for 8 images. */
  @Param({"100352"})
  public int n;

  float[] x;
  Kernels simd;
  static final float S = 0.07f;
  static final float Z = 3f;

  @Setup(Level.Trial)
  public void setup() {
    x = BenchCheck.random(5, n);
    simd = new SimdKernels(new NumericsConfig(NumericsConfig.preferredVectorBits(), 1));
    double a = simd.lpSum(x, 0, n, S, Z, 0, 15);
    double b = LpTerms.sum(x, 0, n, S, Z, 0, 15);
    if (Double.doubleToRawLongBits(a) != Double.doubleToRawLongBits(b)) {
      throw new IllegalStateException("lpSum: SIMD " + a + " != scalar " + b);
    }
  }

  @Benchmark
  public double simd() {
    return simd.lpSum(x, 0, n, S, Z, 0, 15);
  }

  @Benchmark
  public double scalar() {
    return LpTerms.sum(x, 0, n, S, Z, 0, 15);
  }

  @Benchmark
  public double strictPow() {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      float d = Math.abs(x[i] - LpTerms.fakeQuant(x[i], S, Z, 0f, 15f));
      sum += StrictMath.pow(d, 2.4);
    }
    return sum;
  }
}
