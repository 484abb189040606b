package org.qlimit.peers;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.BoolPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.openblas.global.openblas_full;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
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
import org.openjdk.jmh.infra.Blackhole;
import org.qlimit.kernel.ConvShape;
import org.qlimit.kernel.Kernels;
import org.qlimit.util.NumericsConfig;

/**
 * qlimit conv2d forward, backward-data and backward-weight against libtorch on the same inputs,
 * for the 3×3, stride 1, pad 1 convolutions of the three ResNet-20 stages at batch 32.
 *
 * <pre>
 * x: (32, c, s, s)   w: (c, c, 3, 3)   bias: (c)   y, dy: (32, c, s, s)     layer "c@s"
 * 16@32, 32@16, 64@8
 * </pre>
 *
 * <p>Each pass is {@link ConvShape#macs()} multiply-adds, so GFLOP/s = 2·macs·(ops/s)/1e9 (the
 * bias gradient is not counted). The pairs, one benchmark method each:
 *
 * <ul>
 *   <li>forward: qlimit {@code conv2dForward(y, x, w, bias)} vs {@code at::conv2d(x, w, bias)};
 *   <li>backward-data: qlimit {@code conv2dBackwardData(dx, dy, w)} vs
 *       {@code at::convolution_backward(dy, x, w, ..., output_mask = {1, 0, 0})};
 *   <li>backward-weight: qlimit {@code conv2dBackwardWeight(dw, db, dy, x)} vs
 *       {@code at::convolution_backward(..., output_mask = {0, 1, 1})} (weight and bias gradients).
 * </ul>
 *
 * <p>qlimit writes into preallocated arrays (the backward passes accumulate; values grow, timing
 * does not change); libtorch allocates its result tensors on every call, as its API does. The
 * torch input tensors are allocated by torch and hold copies of the Java arrays. Both sides use
 * {@code threads} threads ({@code at::set_num_threads}, and {@code openblas_set_num_threads} for
 * any BLAS call torch makes). Setup checks once that qlimit and libtorch agree within 1e-4 of the
 * largest magnitude of each result, and prints the maximal differences and torch's configuration.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ConvPeerBench {
  /** channels@size: x is (32, channels, size, size), w is (channels, channels, 3, 3). */
  @Param({"16@32", "32@16", "64@8"})
  public String layer;

  @Param({"1", "2"})
  public int threads;

  private static final long[] STRIDE = {1, 1};
  private static final long[] PADDING = {1, 1};
  private static final long[] DILATION = {1, 1};
  private static final long[] OUTPUT_PADDING = {0, 0};
  /** Agreement tolerance, relative to the largest magnitude of each result. */
  private static final double TOLERANCE = 1e-4;

  ConvShape s;
  float[] x, w, bias, dy, y, dx, dw, db;
  Kernels qlimit;

  Tensor xTorch, wTorch, dyTorch;
  TensorOptional biasTorch;
  long[] biasSizes;
  BoolPointer maskData, maskWeight;

  static ConvShape shape(String layer) {
    String[] p = layer.split("@");
    int c = Integer.parseInt(p[0]);
    int hw = Integer.parseInt(p[1]);
    return new ConvShape(32, c, hw, hw, c, 3, 3, 1, 1, 1);
  }

  @Setup(Level.Trial)
  public void setup() {
    s = shape(layer);
    x = PeerData.random(1, s.inputSize());
    w = PeerData.random(2, s.weightSize());
    bias = PeerData.random(3, s.cout());
    dy = PeerData.random(4, s.outputSize());
    y = new float[(int) s.outputSize()];
    dx = new float[(int) s.inputSize()];
    dw = new float[(int) s.weightSize()];
    db = new float[s.cout()];
    Kernels.registerPreferredWidth();
    qlimit = Kernels.of(new NumericsConfig(NumericsConfig.preferredVectorBits(), threads));

    setPeerThreads();
    xTorch = torchCopy(x, s.n(), s.cin(), s.h(), s.w());
    wTorch = torchCopy(w, s.cout(), s.cinPerGroup(), s.kh(), s.kw());
    dyTorch = torchCopy(dy, s.n(), s.cout(), s.ho(), s.wo());
    biasTorch = new TensorOptional(torchCopy(bias, s.cout()));
    biasSizes = new long[] {s.cout()};
    maskData = mask(true, false, false);
    maskWeight = mask(false, true, true);

    check();
  }

  /** Thread settings are per calling thread for OpenMP; set them where the benchmark runs. */
  @Setup(Level.Iteration)
  public void setPeerThreads() {
    torch.set_num_threads(threads);
    openblas_full.openblas_set_num_threads(threads);
  }

  private void check() {
    StringBuilder log = new StringBuilder();
    log.append(String.format(
        "%nqlimit vectorBits=%d threads=%d; torch threads=%d, OpenBLAS core=%s threads=%d%n",
        qlimit.config().vectorBits(), qlimit.config().threads(), torch.get_num_threads(),
        openblas_full.openblas_get_corename().getString(),
        openblas_full.openblas_get_num_threads()));
    try (PointerScope scope = new PointerScope()) {
      qlimit.conv2dForward(y, x, w, bias, s);
      log.append(PeerData.agree("forward " + layer, y, toArray(torchForward()), TOLERANCE))
          .append('\n');

      Arrays.fill(dx, 0f);
      qlimit.conv2dBackwardData(dx, dy, w, s);
      float[] dxTorch = toArray(torchBackwardData().get0());
      log.append(PeerData.agree("backward-data " + layer, dx, dxTorch, TOLERANCE)).append('\n');

      Arrays.fill(dw, 0f);
      Arrays.fill(db, 0f);
      qlimit.conv2dBackwardWeight(dw, db, dy, x, s);
      T_TensorTensorTensor_T g = torchBackwardWeight();
      log.append(PeerData.agree("backward-weight " + layer, dw, toArray(g.get1()), TOLERANCE))
          .append('\n');
      log.append(PeerData.agree("backward-bias " + layer, db, toArray(g.get2()), TOLERANCE))
          .append('\n');
    }
    appendLines(log, torch.show_config().getString(), "MKL-DNN", "CPU capability");
    appendLines(log, torch.get_parallel_info().getString(),
        "parallel backend", "omp_get_max_threads");
    System.out.println(log);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    xTorch.close();
    wTorch.close();
    dyTorch.close();
    biasTorch.close();
    maskData.close();
    maskWeight.close();
  }

  /** Appends the lines of text that contain one of the keys, trimmed, prefixed with "torch: ". */
  private static void appendLines(StringBuilder log, String text, String... keys) {
    for (String line : text.split("\n")) {
      for (String key : keys) {
        if (line.contains(key)) {
          log.append("torch: ").append(line.trim()).append('\n');
          break;
        }
      }
    }
  }

  private static Tensor torchCopy(float[] data, long... sizes) {
    Tensor t = torch.empty(sizes);
    t.data_ptr_float().put(data);
    return t;
  }

  private static float[] toArray(Tensor t) {
    Tensor c = t.contiguous();
    float[] a = new float[Math.toIntExact(c.numel())];
    c.data_ptr_float().get(a);
    return a;
  }

  private static BoolPointer mask(boolean input, boolean weight, boolean bias) {
    BoolPointer m = new BoolPointer(3);
    m.put(0, input).put(1, weight).put(2, bias);
    return m;
  }

  private Tensor torchForward() {
    return torch.conv2d(xTorch, wTorch, biasTorch, STRIDE, PADDING, DILATION, s.groups());
  }

  private T_TensorTensorTensor_T torchBackwardData() {
    return torch.convolution_backward(dyTorch, xTorch, wTorch, biasSizes, STRIDE, PADDING, DILATION,
        false, OUTPUT_PADDING, s.groups(), maskData);
  }

  private T_TensorTensorTensor_T torchBackwardWeight() {
    return torch.convolution_backward(dyTorch, xTorch, wTorch, biasSizes, STRIDE, PADDING, DILATION,
        false, OUTPUT_PADDING, s.groups(), maskWeight);
  }

  @Benchmark
  public float[] qlimitForward() {
    qlimit.conv2dForward(y, x, w, bias, s);
    return y;
  }

  /** Accumulates into dx. */
  @Benchmark
  public float[] qlimitBackwardData() {
    qlimit.conv2dBackwardData(dx, dy, w, s);
    return dx;
  }

  /** Accumulates into dw and db. */
  @Benchmark
  public float[] qlimitBackwardWeight() {
    qlimit.conv2dBackwardWeight(dw, db, dy, x, s);
    return dw;
  }

  /** The result tensor is freed when the scope closes. */
  @Benchmark
  public void torchForward(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      bh.consume(torchForward());
    }
  }

  @Benchmark
  public void torchBackwardData(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      bh.consume(torchBackwardData());
    }
  }

  @Benchmark
  public void torchBackwardWeight(Blackhole bh) {
    try (PointerScope scope = new PointerScope()) {
      bh.consume(torchBackwardWeight());
    }
  }
}
