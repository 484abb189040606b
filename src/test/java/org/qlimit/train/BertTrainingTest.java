package org.qlimit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.optim.Schedules;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Training a BERT-layout encoder from scratch: the same bits at 1 and 2 threads (and on the scalar
 * path), learning on a tiny budget, and a sentence's logits independent of its batch's padding.
 */
class BertTrainingTest extends QuietTest {

  private static TextTrainConfig tiny(NumericsConfig nc) {
    return new TextTrainConfig(16, 1, 2, 32, 128, 1, 2, 16, 3e-3f, 0.25f, 0.01f, 7, 48, 16, nc);
  }

  private static Map<String, Tensor> train(NumericsConfig nc, TextDatasets.Split s) {
    TextTrainer t = new TextTrainer(tiny(nc), s.train());
    return t.fit(s.train(), s.eval(), Trainer.Listener.NONE).state().asMap();
  }

  @Test
  void sameBitsAtOneAndTwoThreadsAndOnTheScalarPath() throws IOException {
    TextDatasets.Split s = TextDatasets.load("trec", null);
    Map<String, Tensor> a = train(NumericsConfig.defaults().withThreads(1), s);
    Map<String, Tensor> b = train(NumericsConfig.defaults().withThreads(2), s);
    Map<String, Tensor> c = train(new NumericsConfig(0, 2), s);
    assertThat(a.keySet()).containsExactlyElementsOf(b.keySet());
    Map<String, Tensor> fresh = new TextTrainer(tiny(NumericsConfig.defaults()), s.train())
        .stateDict().asMap();
    boolean moved = false;
    for (String k : a.keySet()) {
      assertThat(bits(b.get(k))).as("%s at 2 threads", k).isEqualTo(bits(a.get(k)));
      assertThat(bits(c.get(k))).as("%s on the scalar path", k).isEqualTo(bits(a.get(k)));
      moved |= !java.util.Arrays.equals(bits(a.get(k)), bits(fresh.get(k)));
    }
    assertThat(moved).as("training changed the weights").isTrue();
  }

  @Test
  void logitsDoNotDependOnTheBatchPadding() throws IOException {
    TextDatasets.Split s = TextDatasets.load("trec", null);
    TextTrainer t = new TextTrainer(tiny(NumericsConfig.defaults()), s.train());
    TokenizedSentences ev = TokenizedSentences.encode(s.test().subset(0, 12), t.vocabulary(), 128);
    Kernels k = Kernels.of(NumericsConfig.defaults().withThreads(2));
    float[] together = t.model().forward(Graph.inference(k), Var.constant(ev.batch(0, 12)),
        ForwardContext.FP).value().data();
    for (int i = 0; i < 12; i++) {
      float[] alone = t.model().forward(Graph.inference(k), Var.constant(ev.batch(i, i + 1)),
          ForwardContext.FP).value().data();
      for (int j = 0; j < alone.length; j++) {
        assertThat(Float.floatToRawIntBits(alone[j]))
            .isEqualTo(Float.floatToRawIntBits(together[i * alone.length + j]));
      }
    }
  }

  @Test
  void warmUpThenLinearDecay() {
    assertThat(Schedules.linearWarmupDecay(1.0, 0, 10, 110)).isZero();
    assertThat(Schedules.linearWarmupDecay(1.0, 5, 10, 110)).isEqualTo(0.5);
    assertThat(Schedules.linearWarmupDecay(1.0, 10, 10, 110)).isEqualTo(1.0);
    assertThat(Schedules.linearWarmupDecay(1.0, 60, 10, 110)).isEqualTo(0.5);
    assertThat(Schedules.linearWarmupDecay(1.0, 110, 10, 110)).isZero();
    assertThat(Schedules.linearWarmupDecay(2.0, 0, 0, 4)).isEqualTo(2.0);
  }

  private static int[] bits(Tensor t) {
    float[] d = t.data();
    int[] b = new int[d.length];
    for (int i = 0; i < d.length; i++) {
      b[i] = Float.floatToRawIntBits(d[i]);
    }
    return b;
  }

  @Test
  void listOfParametersIsTheStateDict() throws IOException {
    TextDatasets.Split s = TextDatasets.load("trec", null);
    TextTrainer t = new TextTrainer(tiny(NumericsConfig.defaults()), s.train());
    List<String> names = t.stateDict().names();
    assertThat(names.get(0)).isEqualTo("bert.embeddings.word_embeddings.weight");
    assertThat(names).endsWith("classifier.weight", "classifier.bias");
    assertThat(t.config().vocabSize()).isEqualTo(t.vocabulary().vocabSize());
    assertThat(t.config().numLabels()).isEqualTo(6);
  }
}
