package org.qlimit.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/** {@link Functions#maxPool2d}: exact small cases, tie-breaking and a finite-difference check. */
class MaxPoolGradientTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));

  @ParameterizedTest
  @CsvSource({"3,2,1", "2,2,0", "3,1,1", "3,2,0", "1,1,0"})
  void gradientMatchesFiniteDifferences(int k, int stride, int pad) {
    // Distinct values spaced 0.02 apart: a step of 1e-3 never changes a window's argmax.
    int n = 2 * 3 * 7 * 6;
    float[] v = new float[n];
    float[] r = Rand.normal(5, n);
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    java.util.Arrays.sort(order, (a, b) -> Float.compare(r[a], r[b]));
    for (int i = 0; i < n; i++) {
      v[order[i]] = (i - n / 2) * 0.02f;
    }
    Var x = Var.param("x", Tensor.of(v, 2, 3, 7, 6));
    GradCheck.Report rep = GradCheck.check(K, g -> {
      Var y = Functions.maxPool2d(g, x, k, stride, pad);
      return Functions.reconLoss(g, y, Rand.tensor(9, y.shape()), 2.0);
    }, List.of(x), 1e-3);
    assertThat(rep.error()).as(rep.toString()).isLessThan(1e-2);
  }

  @Test
  void paddingActsAsMinusInfinity() {
    // All-negative input: a zero-padded pool would return 0 on the border; −∞ padding does not.
    Tensor x = Tensor.of(new float[] {-1, -2, -3, -4}, 1, 1, 2, 2);
    Var y = Functions.maxPool2d(Graph.inference(K), Var.constant(x), 3, 2, 1);
    assertThat(y.shape()).containsExactly(1, 1, 1, 1);
    assertThat(y.value().data()).containsExactly(-1f);
  }

  @Test
  void outputShapeIsTorchvisionStem() {
    Var x = Var.constant(Tensor.zeros(1, 2, 112, 112));
    assertThat(Functions.maxPool2d(Graph.inference(K), x, 3, 2, 1).shape())
        .containsExactly(1, 2, 56, 56);
    Var odd = Var.constant(Tensor.zeros(1, 1, 7, 7));
    assertThat(Functions.maxPool2d(Graph.inference(K), odd, 3, 2, 1).shape())
        .containsExactly(1, 1, 4, 4);
  }

  @Test
  void tiesSendTheGradientToTheFirstMaximumInScanOrder() {
    // One 2x2 window of equal values: only element (0, 0) receives the gradient.
    Var x = Var.param("x", Tensor.full(3f, 1, 1, 2, 2));
    Graph g = Graph.training(K);
    Var y = Functions.maxPool2d(g, x, 2, 2, 0);
    g.backward(Functions.reconLoss(g, y, Tensor.zeros(1, 1, 1, 1), 2.0));
    assertThat(x.grad().data()).containsExactly(6f, 0f, 0f, 0f);
  }

  @Test
  void overlappingWindowsAccumulate() {
    // 1x3 row, k = 3, stride 1, pad 1: the middle maximum wins all three windows, so it gets
    // the sum of the three output gradients 2·5/3 (reconLoss averages over the 3 positions).
    Var x = Var.param("x", Tensor.of(new float[] {0, 5, 1}, 1, 1, 1, 3));
    Graph g = Graph.training(K);
    Var y = Functions.maxPool2d(g, x, 3, 1, 1);
    assertThat(y.value().data()).containsExactly(5f, 5f, 5f);
    g.backward(Functions.reconLoss(g, y, Tensor.zeros(1, 1, 1, 3), 2.0));
    assertThat(x.grad().data()).containsExactly(0f, 10f, 0f);
  }

  @Test
  void rejectsPaddingOverHalfTheKernel() {
    Var x = Var.constant(Tensor.zeros(1, 1, 4, 4));
    assertThatThrownBy(() -> Functions.maxPool2d(Graph.inference(K), x, 3, 1, 2))
        .hasMessageContaining("pad");
  }
}
