package org.qlimit.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.onnx.Onnx.NodeProto;
import org.qlimit.onnx.Onnx.TensorProto;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Every convolutional architecture of {@code qlimit archs} exports (freshly initialised weights,
 * RTN W4A4 from two random images), and ONNX Runtime (optimisations off) computes qlimit's
 * logits from the exported graph on two random images; the graph carries qlimit's integers,
 * steps and zero points as docs/onnx-export.md says. The BERT-layout encoder has no fresh
 * weights; BertOnnxRuntimeAgreementTest exports it.
 */
class OnnxExportTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  /**
   * The architecture without fresh weights (it needs a vocabulary): BertOnnxRuntimeAgreementTest
   * exports the committed SST-2 model instead.
   */
  static final String NO_FRESH_WEIGHTS = "bert";

  static Stream<String> archs() {
    return Architectures.names().stream().filter(a -> !a.equals(NO_FRESH_WEIGHTS));
  }

  @Test
  void theOnlyArchitectureLeftOutHereIsBert() {
    assertThat(Architectures.names()).contains(NO_FRESH_WEIGHTS);
    assertThat(archs().count()).isEqualTo(Architectures.names().size() - 1);
    assertThatThrownBy(() -> Architectures.get(NO_FRESH_WEIGHTS)
        .fresh(new SplittableRandom(3))).hasMessageContaining("fresh weights need a vocabulary");
  }

  private static Tensor random(int n, int[] chw, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] d = new float[n * chw[0] * chw[1] * chw[2]];
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (2 * r.nextDouble() - 1);
    }
    return Tensor.of(d, n, chw[0], chw[1], chw[2]);
  }

  private static QuantState rtn(Model m, int wbits, int abits, Tensor calib) {
    ReconConfig c = ReconConfig.builder(Method.RTN, wbits, abits).iters(1).itersAct(1)
        .batchSize(2).seed(1005).brecqActImages(2).qdropActImages(2).build();
    return new Reconstructor(m, c, K, ReconListener.NONE).run(calib).state();
  }

  @ParameterizedTest
  @MethodSource("archs")
  void everyArchitectureExportsAndRunsInOnnxRuntime(String arch) throws Exception {
    Architectures.Spec spec = Architectures.get(arch);
    Model m = spec.build(spec.fresh(new SplittableRandom(3)), true);
    Tensor x = random(2, m.inputShape(), 11);
    QuantState s = rtn(m, 4, 4, x);
    ModelProto mp = OnnxExport.build(s, OnnxExport.Options.DEFAULT);
    float[] q = m.forward(Graph.inference(K), Var.constant(x), QuantContext.full(s)).value()
        .contiguous().data();
    float[] o;
    try (Ort ort = new Ort(mp, Ort.Level.OFF, null)) {
      o = ort.logits(x);
    }
    assertThat(o).hasSameSizeAs(q);
    double maxD = 0;
    double maxQ = 0;
    for (int i = 0; i < q.length; i++) {
      maxD = Math.max(maxD, Math.abs((double) q[i] - o[i]));
      maxQ = Math.max(maxQ, Math.abs(q[i]));
    }
    // one activation level flipped by a different float sum order moves a logit by a fraction
    // of its scale; a wrong graph moves it by the order of the logits themselves
    assertThat(maxD).as("%s: max |Δ logit| against max |logit| %s", arch, maxQ)
        .isLessThan(0.05 * maxQ + 1e-4);
    assertThat(mp.getOpsetImport(0).getVersion()).isEqualTo(OnnxExport.OPSET);
  }

  @Test
  void sitesAreNamedClippedAndCarryQlimitsIntegers() throws Exception {
    Model m = OnnxRuntimeAgreementTest.model("resnet20-fmnist");
    QuantState s = OnnxRuntimeAgreementTest.quantize(m, Method.RTN, 2, 2, 1);
    ModelProto mp = OnnxExport.build(s,
        new OnnxExport.Options(OnnxExport.WeightEncoding.LEVELS,
            OnnxExport.BiasEncoding.FLOAT, true));
    List<String> outputs = new ArrayList<>();
    mp.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
    List<String> expected = new ArrayList<>(List.of(OnnxExport.LOGITS));
    s.actsInOrder().forEach(a -> expected.add(a.site()));
    assertThat(outputs).isEqualTo(expected);
    // each 2-bit site: QuantizeLinear, then Clip to [0, 3] whose output is the site's name
    for (var a : s.actsInOrder()) {
      if (a.scheme().bits() != 2) {
        continue;
      }
      NodeProto clip = mp.getGraph().getNodeList().stream()
          .filter(n -> n.getOutputList().contains(a.site())).findFirst().orElseThrow();
      assertThat(clip.getOpType()).isEqualTo("Clip");
      assertThat(int8(mp, clip.getInput(1))).containsExactly(a.scheme().qmin());
      assertThat(int8(mp, clip.getInput(2))).containsExactly(a.scheme().qmax());
    }
    Layer l = m.layers().get(3);
    WeightQuantizer.Fixed f = (WeightQuantizer.Fixed) s.weight(l.name());
    assertThat(int8(mp, l.name() + ".weight_int")).containsExactly(f.levels());
  }

  private static int[] int8(ModelProto mp, String name) {
    TensorProto t = mp.getGraph().getInitializerList().stream()
        .filter(i -> i.getName().equals(name)).findFirst().orElseThrow();
    byte[] b = t.getRawData().toByteArray();
    int[] v = new int[b.length];
    for (int i = 0; i < b.length; i++) {
      v[i] = t.getDataType() == TensorProto.DataType.UINT8_VALUE ? b[i] & 0xff : b[i];
    }
    return v;
  }

  @Test
  void widerThanEightBitsIsAnErrorNamingTheLayer() throws Exception {
    Model m = OnnxRuntimeAgreementTest.model("resnet20-fmnist");
    QuantState s = OnnxRuntimeAgreementTest.quantize(m, Method.RTN, 4, 32, 1);
    Layer l = m.layers().get(2);
    float[] lo = new float[l.outChannels()];
    float[] hi = new float[l.outChannels()];
    java.util.Arrays.fill(lo, -1f);
    java.util.Arrays.fill(hi, 1f);
    s.setWeight(l, WeightQuantizer.Fixed.nearest(l,
        org.qlimit.quant.QParams.fromRange(lo, hi, org.qlimit.quant.QScheme.asymmetric(10))));
    assertThatThrownBy(() -> OnnxExport.build(s, OnnxExport.Options.DEFAULT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ONNX export: layer " + l.name() + " has 10-bit weights");
  }
}
