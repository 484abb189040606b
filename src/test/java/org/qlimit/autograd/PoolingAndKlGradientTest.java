package org.qlimit.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/** Gradient checks and hand cases for average pooling and the KL divergence. */
class PoolingAndKlGradientTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));

  @Test
  void avgPoolGradient() {
    Var x = Rand.param("x", 1, 2, 3, 5, 6);
    Tensor r = Rand.tensor(9, 2, 3, 2, 3);
    GradCheck.Report rep = GradCheck.check(K,
        g -> Functions.reconLoss(g, Functions.avgPool2d(g, x, 2, 2), r, 2.0), List.of(x), 1e-2);
    assertThat(rep.error()).as(rep.toString()).isLessThan(2e-2);
  }

  @Test
  void avgPoolHandCase() {
    Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3);
    Var y = Functions.avgPool2d(Graph.inference(K), Var.constant(x), 2, 1);
    assertThat(y.value().data()).containsExactly(3f, 4f, 6f, 7f);
  }

  @Test
  void klGradient() {
    Var z = Rand.param("z", 1, 3, 5);
    Tensor t = Rand.tensor(2, 3, 5);
    GradCheck.Report rep = GradCheck.check(K, g -> Functions.klDivergence(g, z, t), List.of(z),
        1e-3);
    assertThat(rep.error()).as(rep.toString()).isLessThan(2e-2);
  }

  @Test
  void klOfIdenticalDistributionsIsZeroAndOfUniformVsOneHotIsKnown() {
    Tensor t = Rand.tensor(2, 4, 6);
    float same = Functions.klDivergence(Graph.inference(K), Var.constant(t), t).value().item();
    assertThat((double) same).isCloseTo(0.0, Offset.offset(1e-6));
    // p = softmax([0, 0]) = (1/2, 1/2); q = softmax([log 3, 0]) = (3/4, 1/4):
    // KL = 1/2 log(2/3) + 1/2 log(2) = 1/2 log(4/3).
    Tensor p = Tensor.zeros(1, 2);
    Tensor q = Tensor.of(new float[] {(float) Math.log(3), 0f}, 1, 2);
    float kl = Functions.klDivergence(Graph.inference(K), Var.constant(q), p).value().item();
    assertThat((double) kl).isCloseTo(0.5 * Math.log(4.0 / 3.0), Offset.offset(1e-6));
  }
}
