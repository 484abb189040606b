package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.model.BertEmbeddings;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.NumericsConfig;

/**
 * The 8-bit embedding tables of ALGORITHMS.md §11: per tensor, symmetric, range max |w|, nearest
 * rounding; read by the BERT embeddings in a quantized context and not in the FP one.
 */
class EmbeddingTableQuantTest {

  @Test
  void tableIsOnTheSymmetricEightBitGridOfItsLargestMagnitude() {
    float[] w = {0.5f, -1.27f, 0.013f, 0.9f, -0.004f, 0.77f};
    float[] q = QuantState.quantizeTable("t", Tensor.of(w, 3, 2)).data();
    double s = 1.27 / 127.5; // §1 symmetric scale: max|w| / ((2^8 − 1) / 2)
    for (int i = 0; i < w.length; i++) {
      double level = q[i] / s;
      assertThat(Math.abs(level - Math.rint(level))).as("element %d on the grid", i)
          .isLessThan(1e-3);
      assertThat(Math.rint(level)).isBetween(-128.0, 127.0);
      assertThat(Math.abs(q[i] - w[i])).as("element %d nearest", i).isLessThanOrEqualTo(
          (float) (s / 2 * 1.0001));
    }
    assertThat(q[2]).isNotEqualTo(w[2]);
  }

  @Test
  void nonFiniteTableIsNamed() {
    assertThatThrownBy(() -> QuantState.quantizeTable("bert.embeddings.word_embeddings.weight",
        Tensor.of(new float[] {1f, Float.NaN}, 1, 2)))
        .hasMessage("embedding table bert.embeddings.word_embeddings.weight: element 1 is NaN");
  }

  @Test
  void quantizedContextReadsEightBitTablesAndFpReadsTheOriginals() throws Exception {
    Model m = Architectures.loadBert(Path.of("datasets/models/bert_trec/model.safetensors"))
        .model();
    BertEmbeddings e = (BertEmbeddings) m.units().get(0);
    QuantState st = new QuantState(m);
    Graph g = Graph.inference(Kernels.of(new NumericsConfig(0, 1)));
    QuantContext qc = QuantContext.weightsOnly(st);
    assertThat(ForwardContext.FP.embeddingTable(g, BertEmbeddings.WORD, e.word()))
        .isSameAs(e.word());
    Var qw = qc.embeddingTable(g, BertEmbeddings.WORD, e.word());
    assertThat(qc.embeddingTable(g, BertEmbeddings.WORD, e.word())).isSameAs(qw);
    assertThat(QuantContext.full(st).embeddingTable(g, BertEmbeddings.WORD, e.word()))
        .isSameAs(qw);
    TreeSet<Float> levels = new TreeSet<>();
    for (float v : qw.value().data()) {
      levels.add(v);
    }
    assertThat(levels.size()).isBetween(2, 256);

    // the unit's output under the quantized context = FP forward of the pre-quantized tables
    Var ids = Var.constant(Tensor.of(new float[] {2, 17, 40, 0, 5, 6, 0, 0}, 2, 4));
    float[] fp = e.forward(g, ids, ForwardContext.FP).value().data();
    float[] q = e.forward(g, ids, QuantContext.full(st)).value().data();
    BertEmbeddings pre = new BertEmbeddings(e.name(), qw,
        Var.constant(QuantState.quantizeTable("p", e.position().value())),
        Var.constant(QuantState.quantizeTable("t", e.tokenType().value())), e.lnWeight(),
        e.lnBias(), e.eps(), e.padTokenId());
    float[] want = pre.forward(g, ids, ForwardContext.FP).value().data();
    assertThat(q).containsExactly(want);
    assertThat(q).isNotEqualTo(fp);
  }
}
