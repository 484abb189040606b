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
 * SIMD gemmNN, c (m×n) = a (m×k)·b (k×n), at the machine's preferred width.
 * GFLOP/s = 2·m·n·k · (ops/s) / 1e9. Shapes: 1024³ and the im2col GEMMs of ResNet-20 3×3 convs
 * at batch 32 (16×25088×144: 16 ch @ 28×28; 64×8192×576: 64 ch, 8192 columns).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBench {
  /** m x n x k */
  @Param({"1024x1024x1024", "16x25088x144", "64x8192x576"})
  public String shape;

  @Param({"1"})
  public int threads;

  int m, n, k;
  float[] a, b, c;
  Kernels simd;

  @Setup(Level.Trial)
  public void setup() {
    String[] p = shape.split("x");
    m = Integer.parseInt(p[0]);
    n = Integer.parseInt(p[1]);
    k = Integer.parseInt(p[2]);
    a = BenchCheck.random(1, (long) m * k);
    b = BenchCheck.random(2, (long) k * n);
    c = new float[m * n];
    simd = new SimdKernels(new NumericsConfig(NumericsConfig.preferredVectorBits(), threads));
    float[] want = new float[m * n];
    new ScalarKernels(2).gemmNN(want, a, b, m, k, n, false);
    simd.gemmNN(c, a, b, m, k, n, false);
    BenchCheck.sameBits("gemmNN " + shape, c, want);
  }

  @Benchmark
  public float[] gemmNN() {
    simd.gemmNN(c, a, b, m, k, n, false);
    return c;
  }
}
