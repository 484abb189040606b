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
 * SIMD conv2d forward / backward-data / backward-weight on ResNet-20 3×3 pad-1 layers at batch 32,
 * and a depthwise 3×3 layer (96 ch @ 14×14). Each pass is {@link ConvShape#macs()} multiply-adds,
 * so GFLOP/s = 2·macs · (ops/s) / 1e9. Every result is checked once against ScalarKernels in setup.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvBench {
  /** channels@size, or dw for depthwise. */
  @Param({"16@28", "32@14", "64@7", "dw96@14"})
  public String layer;

  @Param({"1", "2"})
  public int threads;

  ConvShape s;
  float[] x, w, bias, y, dy, dx, dw, db;
  Kernels simd;

  static ConvShape shape(String layer) {
    boolean depthwise = layer.startsWith("dw");
    String[] p = layer.replace("dw", "").split("@");
    int c = Integer.parseInt(p[0]);
    int hw = Integer.parseInt(p[1]);
    return new ConvShape(32, c, hw, hw, c, 3, 3, 1, 1, depthwise ? c : 1);
  }

  @Setup(Level.Trial)
  public void setup() {
    s = shape(layer);
    x = BenchCheck.random(1, s.inputSize());
    w = BenchCheck.random(2, s.weightSize());
    bias = BenchCheck.random(3, s.cout());
    dy = BenchCheck.random(4, s.outputSize());
    y = new float[(int) s.outputSize()];
    dx = new float[(int) s.inputSize()];
    dw = new float[(int) s.weightSize()];
    db = new float[s.cout()];
    simd = new SimdKernels(new NumericsConfig(NumericsConfig.preferredVectorBits(), threads));
    Kernels ref = new ScalarKernels(2);

    float[] want = new float[y.length];
    ref.conv2dForward(want, x, w, bias, s);
    simd.conv2dForward(y, x, w, bias, s);
    BenchCheck.sameBits("conv2dForward " + s, y, want);

    want = new float[dx.length];
    ref.conv2dBackwardData(want, dy, w, s);
    simd.conv2dBackwardData(dx, dy, w, s);
    BenchCheck.sameBits("conv2dBackwardData " + s, dx, want);

    want = new float[dw.length];
    float[] wantB = new float[db.length];
    ref.conv2dBackwardWeight(want, wantB, dy, x, s);
    simd.conv2dBackwardWeight(dw, db, dy, x, s);
    BenchCheck.sameBits("conv2dBackwardWeight dw " + s, dw, want);
    BenchCheck.sameBits("conv2dBackwardWeight db " + s, db, wantB);
  }

  @Benchmark
  public float[] forward() {
    simd.conv2dForward(y, x, w, bias, s);
    return y;
  }

  /** Accumulates into dx (values grow; timing is unaffected). */
  @Benchmark
  public float[] backwardData() {
    simd.conv2dBackwardData(dx, dy, w, s);
    return dx;
  }

  /** Accumulates into dw and db. */
  @Benchmark
  public float[] backwardWeight() {
    simd.conv2dBackwardWeight(dw, db, dy, x, s);
    return dw;
  }
}
