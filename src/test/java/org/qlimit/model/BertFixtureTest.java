package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.GradCheck;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * The BERT-layout encoder against the float64 numpy forward of generate_bert_fixtures.py (random
 * weights, a tiny configuration, padded inputs), its bits across kernels and threads, gradient
 * checks through whole units, and the one-line errors for checkpoints that disagree with the
 * config.
 */
class BertFixtureTest extends QuietTest {

  static Model tiny() throws IOException {
    BertConfig cfg = BertConfig.read(ModelFixtureTest.fixture("bert-tiny-config.json"));
    StateDict sd = Checkpoints.read(ModelFixtureTest.fixture("bert-tiny.safetensors"));
    return Berts.load("bert-tiny", sd, cfg, 10, true);
  }

  static Tensor input() throws IOException {
    SafeTensorsFile f = SafeTensors.read(ModelFixtureTest.fixture("bert-tiny-logits.safetensors"));
    return Tensor.of(f.get("input_ids").asFloats(), 3, 10);
  }

  @Test
  void logitsMatchTheFloat64ReferenceWithin1e4() throws IOException {
    BertConfig cfg = BertConfig.read(ModelFixtureTest.fixture("bert-tiny-config.json"));
    assertThat(cfg).isEqualTo(new BertConfig(16, 2, 4, 32, 40, 12, 2, 1e-12f, 3, 0));
    SafeTensorsFile f = SafeTensors.read(ModelFixtureTest.fixture("bert-tiny-logits.safetensors"));
    float[] want = f.get("logits").asFloats();
    Model m = tiny();
    assertThat(m.units()).hasSize(4);
    int[] ref = null;
    for (NumericsConfig nc : List.of(new NumericsConfig(0, 1), new NumericsConfig(0, 2),
        NumericsConfig.defaults().withThreads(1), NumericsConfig.defaults().withThreads(3))) {
      float[] got = m.forward(Graph.inference(Kernels.of(nc)), Var.constant(input()),
          ForwardContext.FP).value().data();
      double worst = 0;
      for (int i = 0; i < want.length; i++) {
        worst = Math.max(worst, Math.abs(got[i] - want[i]));
      }
      assertThat(worst).as("max |Δ| of the logits, %s", nc).isLessThanOrEqualTo(1e-4);
      int[] bits = new int[got.length];
      for (int i = 0; i < got.length; i++) {
        bits[i] = Float.floatToRawIntBits(got[i]);
      }
      if (ref == null) {
        ref = bits;
      }
      assertThat(bits).as("same bits with %s", nc).isEqualTo(ref);
    }
  }

  @Test
  void parametersAreTheStateDictInModelOrder() throws IOException {
    Model m = tiny();
    List<Var> ps = m.parameters();
    // 2 layers × (6 linear × 2 + 4 LayerNorm) + pooler and classifier (4) + embeddings (5)
    assertThat(ps).hasSize(2 * 16 + 4 + 5);
    assertThat(ps.get(0).name()).isEqualTo("bert.encoder.layer.0.attention.self.query.weight");
    assertThat(ps).extracting(Var::name).contains("bert.embeddings.word_embeddings.weight",
        "bert.encoder.layer.1.output.LayerNorm.bias", "classifier.weight");
  }

  @Test
  void gradientsThroughAWholeModelCheckOut() throws IOException {
    Model m = tiny();
    Kernels k = Kernels.of(new NumericsConfig(0, 1));
    Tensor x = input();
    int[] labels = {0, 2, 1};
    List<Var> some = List.of(find(m, "bert.encoder.layer.0.attention.self.key.weight"),
        find(m, "bert.encoder.layer.1.attention.output.LayerNorm.weight"),
        find(m, "bert.embeddings.position_embeddings.weight"), find(m, "classifier.bias"));
    GradCheck.Report r = GradCheck.check(k,
        g -> Functions.crossEntropy(g, m.forward(g, Var.constant(x), ForwardContext.FP), labels),
        some, 1e-2);
    assertThat(r.error()).as(r.toString()).isLessThan(2e-2);
  }

  private static Var find(Model m, String name) {
    return m.parameters().stream().filter(v -> v.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void badInputsAreOneLineErrors(@TempDir Path dir) throws IOException {
    Model m = tiny();
    Tensor x = input();
    x.data()[13] = 40f;
    assertThatThrownBy(() -> m.forward(Graph.inference(Kernels.of(new NumericsConfig(0, 1))),
        Var.constant(x), ForwardContext.FP))
        .hasMessage("bert.embeddings: token id 40.0 at sequence 1, position 3 is not an id of the "
            + "vocabulary of 40");
    // a config that disagrees with the weights names the tensor and both shapes
    Path cfgFile = dir.resolve("config.json");
    String json = Files.readString(ModelFixtureTest.fixture("bert-tiny-config.json"));
    Files.writeString(cfgFile, json.replace("\"intermediate_size\": 32", "\"intermediate_size\": 64"),
        StandardCharsets.UTF_8);
    BertConfig wrong = BertConfig.read(cfgFile);
    assertThatThrownBy(() -> Berts.load("bert-tiny",
        Checkpoints.read(ModelFixtureTest.fixture("bert-tiny.safetensors")), wrong, 10, false))
        .hasMessageEndingWith("tensor 'bert.encoder.layer.0.intermediate.dense.weight' has shape "
            + "[32, 16], the architecture expects [64, 16]");
    Files.writeString(cfgFile, json.replace("\"gelu\"", "\"relu\""), StandardCharsets.UTF_8);
    assertThatThrownBy(() -> BertConfig.read(cfgFile))
        .hasMessage(cfgFile + ": hidden_act is 'relu'; only 'gelu' is supported");
    Files.writeString(cfgFile, json.replace("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"),
        StandardCharsets.UTF_8);
    assertThatThrownBy(() -> BertConfig.read(cfgFile)).hasMessage(cfgFile
        + ": BERT config: hidden_size 16 is not divisible by num_attention_heads 5");
    assertThatThrownBy(() -> Berts.load("bert-tiny",
        Checkpoints.read(ModelFixtureTest.fixture("bert-tiny.safetensors")),
        BertConfig.read(ModelFixtureTest.fixture("bert-tiny-config.json")), 13, false))
        .hasMessage("bert-tiny: maximum length 13 outside 2..max_position_embeddings 12");
  }

  @Test
  void writtenConfigReadsBack(@TempDir Path dir) throws IOException {
    BertConfig cfg = new BertConfig(64, 2, 4, 256, 9000, 64, 2, 1e-12f, 6, 0);
    cfg.write(dir.resolve("config.json"));
    assertThat(BertConfig.read(dir.resolve("config.json"))).isEqualTo(cfg);
  }
}
