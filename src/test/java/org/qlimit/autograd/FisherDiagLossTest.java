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

/**
 * BRECQ's diagonal-Fisher loss {@link Functions#fisherDiagLoss}: a hand case in double, a
 * gradient check, and the squared-error loss it becomes with all factors 1.
 */
class FisherDiagLossTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));

  @Test
  void handCaseInDouble() {
    // (N, C, W) = (2, 2, 1): M = numel / C = 2
    float[] pred = {1.0f, -2.0f, 0.5f, 3.0f};
    float[] tgt = {0.5f, -1.0f, 0.5f, 1.0f};
    float[] a = {1.0f, 2.0f, 1.5f, 1.25f};
    double want = 0;
    for (int i = 0; i < 4; i++) {
      double e = (double) a[i] * ((double) pred[i] - tgt[i]);
      want += e * e;
    }
    want /= 2;  // 0.25 + 4 + 0 + 6.25 = 10.5, / 2
    assertThat(want).isEqualTo(5.25);
    Var p = Var.param("pred", Tensor.of(pred.clone(), 2, 2, 1));
    Graph g = Graph.training(K);
    Var l = Functions.fisherDiagLoss(g, p, Tensor.of(tgt, 2, 2, 1), Tensor.of(a, 2, 2, 1));
    assertThat((double) l.value().item()).isEqualTo(5.25);
    g.backward(l);
    // dL/dŷ_i = 2 a_i² (ŷ_i − y_i) / M
    assertThat(p.grad().data()).containsExactly(0.5f, -4.0f, 0.0f, 3.125f);
  }

  @Test
  void gradient() {
    Var x = Rand.param("x", 3, 3, 4, 2, 2);
    Tensor t = Rand.tensor(4, 3, 4, 2, 2);
    Tensor w = Rand.tensor(5, 3, 4, 2, 2);
    float[] wd = w.data();
    for (int i = 0; i < wd.length; i++) {
      wd[i] = Math.abs(wd[i]) + 1f;  // BRECQ's factors are |g| + 1
    }
    GradCheck.Report rep = GradCheck.check(K, g -> Functions.fisherDiagLoss(g, x, t, w),
        List.of(x), 1e-2);
    assertThat(rep.error()).as(rep.toString()).isLessThan(1e-2);
  }

  @Test
  void withAllFactorsOneItIsTheSquaredError() {
    Tensor t = Rand.tensor(7, 5, 3, 4, 4);
    Tensor ones = Tensor.zeros(5, 3, 4, 4);
    java.util.Arrays.fill(ones.data(), 1f);
    Var a = Rand.param("a", 8, 5, 3, 4, 4);
    Var b = Var.param("b", Tensor.of(a.value().data().clone(), 5, 3, 4, 4));
    Graph ga = Graph.training(K);
    Var la = Functions.reconLoss(ga, a, t, 2.0);
    ga.backward(la);
    Graph gb = Graph.training(K);
    Var lb = Functions.fisherDiagLoss(gb, b, t, ones);
    gb.backward(lb);
    // the losses are sums in different orders (float lanes vs double): equal to float rounding
    assertThat((double) lb.value().item()).isCloseTo(la.value().item(),
        Offset.offset(1e-6 * Math.abs(la.value().item())));
    // the gradients are the same formula: the same bits
    assertThat(b.grad().data()).containsExactly(a.grad().data());
  }
}
