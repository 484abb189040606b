package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Linear;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/** The head's prologue is its global average pooling, and forward(prologue(x)) = forward(x). */
class HeadPrologueTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));

  @Test
  void prologuePoolsAndForwardAgrees() {
    Head h = new Head(new Linear("fc", Rand.param("fc.weight", 3, 10, 8),
        Rand.param("fc.bias", 4, 10)));
    Tensor x = Rand.tensor(5, 2, 8, 3, 4);
    Graph g = Graph.inference(K);
    Var pooled = h.prologue(g, Var.constant(x));
    assertThat(pooled.shape()).containsExactly(2, 8);
    float[] xd = x.data();
    for (int c = 0; c < 8; c++) {
      float sum = 0f;
      for (int i = 0; i < 12; i++) {
        sum += xd[(8 + c) * 12 + i];
      }
      assertThat(pooled.value().data()[8 + c]).isCloseTo(sum / 12f,
          org.assertj.core.api.Assertions.within(1e-6f));
    }
    float[] direct = h.forward(g, Var.constant(x), ForwardContext.FP).value().data();
    float[] viaPrologue = h.forward(g, pooled, ForwardContext.FP).value().data();
    assertThat(viaPrologue).containsExactly(direct);
    assertThat(h.prologue(g, pooled).value().data()).containsExactly(pooled.value().data());
  }
}
