package org.qlimit.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.onnx.Onnx.NodeProto;
import org.qlimit.quant.ActQuantizer;
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
 * The committed SST-2 BERT, RTN-quantized from 16 training sentences, exported to ONNX (opset
 * 17) and run in ONNX Runtime with graph optimisations off and at their default: the same argmax
 * as qlimit's fake-quantized forward on at least 99.9 % of the 872 SST-2 dev sentences, logits
 * within a fraction of their size; the graph's outputs are the logits and every site under its
 * qlimit name, and a site below 8 bits is the Clip after {@code S.saturated}.
 */
class BertOnnxRuntimeAgreementTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final int BATCH = 64;

  private static Architectures.BertBundle bundle;
  private static TokenizedSentences dev;
  private static TokenizedSentences calib;

  @BeforeAll
  static void load() throws Exception {
    bundle = Architectures.loadBert(Path.of("datasets/models/bert_sst2/model.safetensors"));
    TextDatasets.Split split = TextDatasets.load("sst2", null);
    int maxLen = bundle.config().maxPositions();
    dev = TokenizedSentences.encode(split.eval(), bundle.tokenizer(), maxLen);
    calib = TokenizedSentences.encode(split.train().subset(0, 16), bundle.tokenizer(), maxLen);
  }

  static QuantState rtn(Model m, int wbits, int abits) {
    ReconConfig c = ReconConfig.builder(Method.RTN, wbits, abits).iters(1).itersAct(1)
        .batchSize(2).seed(1005).build();
    return new Reconstructor(m, c, K, ReconListener.NONE).run(calib.batch(0, calib.n())).state();
  }

  @ParameterizedTest
  @CsvSource({"8, 8", "4, 8"})
  void onnxRuntimeAgreesWithQlimitOnSst2Dev(int wbits, int abits) throws Exception {
    Model m = bundle.model();
    QuantState s = rtn(m, wbits, abits);
    ModelProto mp = OnnxExport.build(s, OnnxExport.Options.DEFAULT);
    assertThat(mp.getOpsetImport(0).getVersion()).isEqualTo(OnnxExport.BERT_OPSET);
    int pad = bundle.config().padTokenId();
    for (Ort.Level level : Ort.Level.values()) {
      int same = 0;
      double maxD = 0;
      double maxQ = 0;
      try (Ort ort = new Ort(mp, level, null)) {
        for (int from = 0; from < dev.n(); from += BATCH) {
          int to = Math.min(dev.n(), from + BATCH);
          Tensor x = dev.batch(from, to);
          float[] q = m.forward(Graph.inference(K), Var.constant(x), QuantContext.full(s))
              .value().contiguous().data();
          int n = x.dim(0);
          int l = x.dim(1);
          float[] xd = x.contiguous().data();
          long[] ids = new long[xd.length];
          long[] mask = new long[xd.length];
          for (int i = 0; i < xd.length; i++) {
            ids[i] = (long) xd[i];
            mask[i] = ids[i] == pad ? 0 : 1;
          }
          float[] o = ort.bertLogits(ids, mask, n, l);
          assertThat(o).hasSameSizeAs(q);
          int c = q.length / n;
          for (int b = 0; b < n; b++) {
            same += argmax(q, b * c, c) == argmax(o, b * c, c) ? 1 : 0;
          }
          for (int i = 0; i < q.length; i++) {
            maxD = Math.max(maxD, Math.abs((double) q[i] - o[i]));
            maxQ = Math.max(maxQ, Math.abs(q[i]));
          }
        }
      }
      System.err.printf(Locale.ROOT, "bert sst2 rtn W%dA%d, ORT %s: same argmax %d/%d, "
          + "max |Δ logit| %.3g (max |logit| %.3g)%n", wbits, abits, level, same, dev.n(), maxD,
          maxQ);
      assertThat(same).as("W%dA%d ORT %s", wbits, abits, level)
          .isGreaterThanOrEqualTo((int) Math.ceil(0.999 * dev.n()));
      assertThat(maxD).as("W%dA%d ORT %s max |Δ logit|", wbits, abits, level)
          .isLessThan(0.05 * maxQ);
    }
  }

  @ParameterizedTest
  @CsvSource({"4, 4"})
  void sitesAreGraphOutputsUnderTheirQlimitNames(int wbits, int abits) {
    QuantState s = rtn(bundle.model(), wbits, abits);
    ModelProto mp = OnnxExport.build(s, new OnnxExport.Options(OnnxExport.WeightEncoding.CENTRED,
        OnnxExport.BiasEncoding.FLOAT, true));
    List<String> outputs = new ArrayList<>();
    mp.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
    List<String> expected = new ArrayList<>(List.of(OnnxExport.LOGITS));
    s.actsInOrder().forEach(a -> expected.add(a.site()));
    assertThat(outputs).isEqualTo(expected).contains("bert.encoder.layer.0.attention.self.probs",
        "bert.encoder.layer.1.attention.self.key_scores", "classifier");
    int clipped = 0;
    for (ActQuantizer a : s.actsInOrder()) {
      NodeProto producer = mp.getGraph().getNodeList().stream()
          .filter(nd -> nd.getOutputList().contains(a.site())).findFirst().orElseThrow();
      if (a.scheme().bits() < 8) {
        assertThat(producer.getOpType()).isEqualTo("Clip");
        assertThat(producer.getInput(0)).isEqualTo(a.site() + ".saturated");
        clipped++;
      } else {
        assertThat(producer.getOpType()).isEqualTo("QuantizeLinear");
      }
    }
    assertThat(clipped).isPositive();
  }

  private static int argmax(float[] v, int off, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (v[off + i] > v[off + best]) {
        best = i;
      }
    }
    return best;
  }
}
