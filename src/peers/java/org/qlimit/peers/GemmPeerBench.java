package org.qlimit.peers;

import static org.bytedeco.openblas.global.openblas_full.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_full.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_full.cblas_sgemm;
import static org.bytedeco.openblas.global.openblas_full.openblas_get_config;
import static org.bytedeco.openblas.global.openblas_full.openblas_get_corename;
import static org.bytedeco.openblas.global.openblas_full.openblas_get_num_threads;
import static org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads;

import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
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
import org.openjdk.jmh.annotations.TearDown;
import org.qlimit.kernel.Kernels;
import org.qlimit.util.NumericsConfig;

/**
 * qlimit {@code gemmNN} against OpenBLAS {@code cblas_sgemm} (row-major, no transposes, alpha 1,
 * beta 0) on the same inputs: c (m×n) = a (m×k)·b (k×n), FP32.
 *
 * <p>Shapes (m×n×k): 1024³, and the im2col GEMMs of the ResNet-20 3×3 convolutions at batch 32,
 * m = output channels, n = 32·H·W, k = 9·input channels: 16×32768×144 (32×32 stage),
 * 32×8192×288 (16×16 stage), 64×2048×576 (8×8 stage). GFLOP/s = 2·m·n·k·(ops/s)/1e9.
 *
 * <p>qlimit runs on Java arrays at the JVM's preferred vector width with {@code threads} workers;
 * OpenBLAS runs on native copies of the same arrays (no JNI array copies in the timed call), with
 * {@code openblas_set_num_threads(threads)}. Setup checks once that both products agree within
 * 1e-4 of the largest |c| and prints OpenBLAS's core type and build configuration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmPeerBench {
  /** m x n x k */
  @Param({"1024x1024x1024", "16x32768x144", "32x8192x288", "64x2048x576"})
  public String shape;

  @Param({"1", "2"})
  public int threads;

  int m, n, k;
  float[] a, b, c;
  Kernels qlimit;
  FloatPointer aNative, bNative, cNative;

  @Setup(Level.Trial)
  public void setup() {
    String[] p = shape.split("x");
    m = Integer.parseInt(p[0]);
    n = Integer.parseInt(p[1]);
    k = Integer.parseInt(p[2]);
    a = PeerData.random(1, (long) m * k);
    b = PeerData.random(2, (long) k * n);
    c = new float[m * n];
    Kernels.registerPreferredWidth();
    qlimit = Kernels.of(new NumericsConfig(NumericsConfig.preferredVectorBits(), threads));

    aNative = new FloatPointer(a);
    bNative = new FloatPointer(b);
    cNative = new FloatPointer((long) m * n);
    openblas_set_num_threads(threads);

    qlimit.gemmNN(c, a, b, m, k, n, false);
    openblas();
    float[] peer = new float[m * n];
    cNative.get(peer);
    String check = PeerData.agree("gemm " + shape, c, peer, 1e-4);
    System.out.printf(
        "%nqlimit vectorBits=%d threads=%d; OpenBLAS core=%s threads=%d config=[%s]; %s%n",
        qlimit.config().vectorBits(), qlimit.config().threads(),
        openblas_get_corename().getString(), openblas_get_num_threads(),
        openblas_get_config().getString(), check);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    aNative.close();
    bNative.close();
    cNative.close();
  }

  @Benchmark
  public float[] qlimit() {
    qlimit.gemmNN(c, a, b, m, k, n, false);
    return c;
  }

  @Benchmark
  public FloatPointer openblas() {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
        1f, aNative, k, bNative, n, 0f, cNative, n);
    return cNative;
  }
}
