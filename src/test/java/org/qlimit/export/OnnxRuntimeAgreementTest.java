package org.qlimit.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.nio.file.Files;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.onnx.Onnx.NodeProto;
import org.qlimit.onnx.Onnx.TensorProto;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * The exported QDQ graph, run in ONNX Runtime with its graph optimisations off, gives the argmax
 * of qlimit's own fake-quantized forward pass on at least 99.9 % of the first {@value #IMAGES}
 * Fashion-MNIST test images (at most one disagreement), with logits within 0.5 of qlimit's (the
 * measured maximum is in the README table). At ORT's default level ORT fuses the QDQ pairs into
 * its integer convolution (QLinearConv), which adds the bias in int32 at s_x·s_w: the graph
 * exported with INT32 biases agrees in the same way, at both levels, with qlimit's forward pass
 * of the model with those biases. RTN runs (16 calibration
 * images) of the embedded ResNet-20 and MobileNetV2-small at W4A4, W2A4 and W2A2, and one
 * reconstructed run (QDrop W2A2, 4 iterations per unit). The full test set, both levels:
 * {@link OnnxAgreementTable} (README table).
 */
class OnnxRuntimeAgreementTest extends QuietTest {
  static final int IMAGES = 1000;
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static LabeledImages test;
  private static LabeledImages train;

  @BeforeAll
  public static void load() throws Exception {
    Datasets.Split d = Datasets.load("fashion-mnist", null);
    test = d.test();
    train = d.train();
  }

  /** A quantization of {@code m} from the first 16 training images. */
  public static QuantState quantize(Model m, Method method, int wbits, int abits, int iters)
      throws Exception {
    if (train == null) {
      load();
    }
    Tensor calib = Evaluator.batch(train, Normalization.FASHION_MNIST,
        CalibrationSampler.firstN(train, 16));
    ReconConfig c = ReconConfig.builder(method, wbits, abits).iters(iters).itersAct(iters)
        .batchSize(8).seed(1005).brecqActImages(16).qdropActImages(16).build();
    return new Reconstructor(m, c, K, ReconListener.NONE).run(calib).state();
  }

  /** The embedded model of {@code arch} (resnet20-fmnist or mobilenetv2-small-fmnist). */
  public static Model model(String arch) throws Exception {
    String file = arch.replace("-fmnist", "_fmnist").replace("-small", "_small");
    return Architectures.load(arch, Path.of("datasets/models/" + file + ".safetensors"));
  }

  /**
   * Agreement of ORT with qlimit.
   *
   * @param maxAbsLogitDelta max over images and classes of |logit_qlimit − logit_ORT|
   */
  public record Agreement(int images, int sameArgmax, double maxAbsLogitDelta, int ortCorrect,
      int qlimitCorrect) {}

  /** qlimit's fake-quantized logits (n, classes) for the first n test images. */
  public static float[] qlimitLogits(QuantState s, int n) {
    int classes = s.model().numClasses();
    float[] out = new float[n * classes];
    for (int from = 0; from < n; from += 100) {
      int to = Math.min(n, from + 100);
      float[] q = Evaluator.logits(s.model(), QuantContext.full(s), K, test,
          Normalization.FASHION_MNIST, from, to).contiguous().data();
      System.arraycopy(q, 0, out, from * classes, q.length);
    }
    return out;
  }

  /** ORT's logits for the first n test images against qlimit's ({@link #qlimitLogits}). */
  public static Agreement agreement(float[] qlimit, Ort ort, int n) throws Exception {
    int classes = qlimit.length / n;
    int same = 0;
    int ortOk = 0;
    int qOk = 0;
    double maxD = 0;
    for (int from = 0; from < n; from += 100) {
      int to = Math.min(n, from + 100);
      float[] o = ort.logits(Evaluator.batch(test, Normalization.FASHION_MNIST, from, to));
      float[] q = java.util.Arrays.copyOfRange(qlimit, from * classes, to * classes);
      int[] qa = Evaluator.argmax(Tensor.of(q, to - from, classes));
      int[] oa = Evaluator.argmax(Tensor.of(o, to - from, classes));
      for (int i = 0; i < qa.length; i++) {
        same += qa[i] == oa[i] ? 1 : 0;
        qOk += qa[i] == test.labels()[from + i] ? 1 : 0;
        ortOk += oa[i] == test.labels()[from + i] ? 1 : 0;
      }
      for (int i = 0; i < q.length; i++) {
        maxD = Math.max(maxD, Math.abs((double) q[i] - o[i]));
      }
    }
    return new Agreement(n, same, maxD, ortOk, qOk);
  }

  /** The op types of the graph ORT wrote after its optimisations, with their counts. */
  static Map<String, Integer> ops(Path optimized) throws Exception {
    Map<String, Integer> ops = new TreeMap<>();
    for (NodeProto nd : ModelProto.parseFrom(Files.readAllBytes(optimized)).getGraph()
        .getNodeList()) {
      ops.merge(nd.getOpType(), 1, Integer::sum);
    }
    return ops;
  }

  @ParameterizedTest(name = "{0} {1} W{2}A{3}")
  @CsvSource({
      "resnet20-fmnist, RTN, 4, 4, 1",
      "resnet20-fmnist, RTN, 2, 4, 1",
      "resnet20-fmnist, RTN, 2, 2, 1",
      "mobilenetv2-small-fmnist, RTN, 4, 4, 1",
      "mobilenetv2-small-fmnist, RTN, 2, 4, 1",
      "mobilenetv2-small-fmnist, RTN, 2, 2, 1",
      "resnet20-fmnist, QDROP, 2, 2, 4"})
  void ortAgreesWithQlimit(String arch, Method method, int wbits, int abits, int iters,
      @TempDir Path dir) throws Exception {
    QuantState s = quantize(model(arch), method, wbits, abits, iters);
    ModelProto mp = OnnxExport.build(s, OnnxExport.Options.DEFAULT);
    float[] q = qlimitLogits(s, IMAGES);
    Agreement a;
    try (Ort ort = new Ort(mp, Ort.Level.OFF, null)) {
      a = agreement(q, ort, IMAGES);
    }
    assertThat(a.sameArgmax()).as("%s %s W%dA%d, ORT optimisations off: %s", arch, method,
        wbits, abits, a).isGreaterThanOrEqualTo(IMAGES - IMAGES / 1000);
    assertThat(a.maxAbsLogitDelta()).as("%s, ORT off: %s", arch, a).isLessThan(0.5);

    // ORT's default level fuses the QDQ pairs into QLinearConv, whose bias is int32 at s_x·s_w:
    // exported that way (the deployment form), ORT at both levels computes qlimit's forward
    // pass of the model with those biases
    ModelProto deployed = OnnxExport.build(s, new OnnxExport.Options(
        OnnxExport.WeightEncoding.CENTRED, OnnxExport.BiasEncoding.INT32, false));
    setBiasesFromGraph(s.model(), deployed);
    float[] qd = qlimitLogits(s, IMAGES);
    Path opt = dir.resolve("default.onnx");
    for (Ort.Level level : Ort.Level.values()) {
      try (Ort ort = new Ort(deployed, level, level == Ort.Level.DEFAULT ? opt : null)) {
        Agreement d = agreement(qd, ort, IMAGES);
        assertThat(d.sameArgmax()).as("%s %s W%dA%d, int32 biases, ORT %s: %s", arch, method,
            wbits, abits, level, d).isGreaterThanOrEqualTo(IMAGES - IMAGES / 1000);
        assertThat(d.maxAbsLogitDelta()).as("%s, ORT %s: %s", arch, level, d).isLessThan(0.5);
      }
    }
    assertThat(ops(opt)).as("%s: ORT at its default level fuses QDQ into QLinearConv", arch)
        .containsKey("QLinearConv");
  }

  /**
   * Sets (Modified) every layer bias of {@code m} that the graph stores as INT32 to its
   * dequantized value b_q·(s_x·s_w) in float32, as DequantizeLinear computes it.
   */
  static void setBiasesFromGraph(Model m, ModelProto mp) {
    Map<String, TensorProto> init = new java.util.HashMap<>();
    for (TensorProto t : mp.getGraph().getInitializerList()) {
      init.put(t.getName(), t);
    }
    for (org.qlimit.nn.Layer l : m.layers()) {
      TensorProto bi = init.get(l.name() + ".bias_int");
      if (bi == null) {
        continue;
      }
      java.nio.ByteBuffer q = bi.getRawData().asReadOnlyByteBuffer()
          .order(java.nio.ByteOrder.LITTLE_ENDIAN);
      java.nio.ByteBuffer sc = init.get(l.name() + ".bias_scale").getRawData()
          .asReadOnlyByteBuffer().order(java.nio.ByteOrder.LITTLE_ENDIAN);
      float[] b = l.bias().value().data();
      for (int c = 0; c < b.length; c++) {
        b[c] = q.getInt(4 * c) * sc.getFloat(4 * c);
      }
    }
  }

  /** qlimit's levels with per-channel zero points also run (optimisations off) and agree. */
  @org.junit.jupiter.api.Test
  void levelsEncodingAgreesWithOptimisationsOff() throws Exception {
    QuantState s = quantize(model("resnet20-fmnist"), Method.RTN, 3, 4, 1);
    ModelProto mp = OnnxExport.build(s,
        new OnnxExport.Options(OnnxExport.WeightEncoding.LEVELS,
            OnnxExport.BiasEncoding.FLOAT, false));
    float[] q = qlimitLogits(s, 200);
    try (Ort ort = new Ort(mp, Ort.Level.OFF, null)) {
      Agreement a = agreement(q, ort, 200);
      assertThat(a.sameArgmax()).as("%s", a).isEqualTo(200);
    }
  }
}
