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

/** Finite-difference checks of every backward rule in {@link Functions}. */
class GradientTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));
  private static final double H = 1e-2;
  private static final double TOL = 2e-2;

  /** Projects an output onto fixed random weights, so every output element matters. */
  private static Var project(Graph g, Var y, long seed) {
    Tensor r = Rand.tensor(seed, y.shape());
    return Functions.reconLoss(g, y, r, 2.0);
  }

  @ParameterizedTest
  @CsvSource({"1,1,1", "2,1,1", "1,0,1", "1,1,2", "1,1,4", "2,2,1"})
  void conv2d(int stride, int pad, int groups) {
    Var x = Rand.param("x", 1, 2, 4, 6, 5);
    Var w = Rand.param("w", 2, 4, 4 / groups, 3, 3);
    Var b = Rand.param("b", 3, 4);
    GradCheck.Report r = GradCheck.check(K,
        g -> project(g, Functions.conv2d(g, x, w, b, stride, pad, groups), 9), List.of(x, w, b),
        H);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void linear() {
    Var x = Rand.param("x", 1, 3, 7);
    Var w = Rand.param("w", 2, 5, 7);
    Var b = Rand.param("b", 3, 5);
    GradCheck.Report r = GradCheck.check(K, g -> project(g, Functions.linear(g, x, w, b), 9),
        List.of(x, w, b), H);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void elementwise() {
    Var a = Var.param("a", Tensor.of(Rand.awayFrom(1, 40, 0.05f, 0f, 6f), 2, 4, 5));
    Var b = Var.param("b", Tensor.of(Rand.awayFrom(2, 40, 0.05f, 0f, 6f), 2, 4, 5));
    GradCheck.Report r = GradCheck.check(K, g -> {
      Var s = Functions.add(g, Functions.relu(g, a), Functions.relu6(g, b));
      Var t = Functions.add(g, s, a);
      return project(g, Functions.reshape(g, t, 8, 5), 9);
    }, List.of(a, b), 1e-3);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void poolingAndShortcut() {
    Var x = Rand.param("x", 1, 2, 4, 5, 6);
    GradCheck.Report r = GradCheck.check(K, g -> {
      Var s = Functions.subsamplePadChannels(g, x, 2);
      return project(g, Functions.globalAvgPool(g, s), 9);
    }, List.of(x), H);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @ParameterizedTest
  @CsvSource({"2.0", "2.4"})
  void reconLoss(double p) {
    Var x = Rand.param("x", 1, 3, 4, 2, 2);
    Tensor t = Rand.tensor(2, 3, 4, 2, 2);
    GradCheck.Report r = GradCheck.check(K, g -> Functions.reconLoss(g, x, t, p), List.of(x), 1e-3);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void reconLossIsChannelSumAveragedOverTheRest() {
    // N=1, C=2, 1x2 positions: M = 2 positions; errors 1,2 (channel 0), 3,4 (channel 1).
    Tensor pred = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 1, 2);
    Tensor target = Tensor.zeros(1, 2, 1, 2);
    Var l = Functions.reconLoss(Graph.inference(K), Var.constant(pred), target, 2.0);
    assertThat(l.value().item()).isEqualTo((1f + 4 + 9 + 16) / 2);
  }

  @Test
  void crossEntropy() {
    Var z = Rand.param("z", 1, 4, 6);
    int[] labels = {0, 5, 2, 2};
    GradCheck.Report r = GradCheck.check(K, g -> Functions.crossEntropy(g, z, labels), List.of(z),
        1e-3);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void crossEntropyOfUniformLogitsIsLogC() {
    Var z = Var.constant(Tensor.zeros(2, 10));
    float l = Functions.crossEntropy(Graph.inference(K), z, new int[] {3, 7}).value().item();
    assertThat((double) l).isCloseTo(Math.log(10), org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void batchNormTraining() {
    Var x = Rand.param("x", 1, 3, 2, 3, 3);
    Var gamma = Rand.param("gamma", 2, 2);
    Var beta = Rand.param("beta", 3, 2);
    GradCheck.Report r = GradCheck.check(K, g -> project(g,
        Functions.batchNorm2dTrain(g, x, gamma, beta, 1e-5f, new float[2], new float[2]), 9),
        List.of(x, gamma, beta), 1e-3);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void batchNormEval() {
    Var x = Rand.param("x", 1, 2, 3, 2, 2);
    Tensor gamma = Rand.tensor(2, 3);
    Tensor beta = Rand.tensor(3, 3);
    Tensor mean = Rand.tensor(4, 3);
    Tensor var = Tensor.of(new float[] {0.5f, 1.5f, 2f}, 3);
    GradCheck.Report r = GradCheck.check(K, g -> project(g,
        Functions.batchNorm2dEval(g, x, gamma, beta, mean, var, 1e-5f), 9), List.of(x), H);
    assertThat(r.error()).as(r.toString()).isLessThan(TOL);
  }

  @Test
  void gradientsAccumulateAcrossUses() {
    // y = x + x: dy/dx = 2 through two recorded uses of the same Var.
    Var x = Var.param("x", Tensor.of(new float[] {1, 2}, 1, 2));
    Graph g = Graph.training(K);
    Var y = Functions.add(g, x, x);
    Var l = Functions.reconLoss(g, y, Tensor.zeros(1, 2), 2.0);
    g.backward(l);
    // L = (2x0)^2 + (2x1)^2 over M = 1: dL/dx = 8x.
    assertThat(x.grad().data()).containsExactly(8f, 16f);
  }

  @Test
  void shapeErrorsNameTheOperation() {
    Graph g = Graph.inference(K);
    Var x = Var.constant(Tensor.zeros(1, 3, 4, 4));
    Var w = Var.constant(Tensor.zeros(8, 2, 3, 3));
    assertThatThrownBy(() -> Functions.conv2d(g, x, w, null, 1, 1, 1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("conv2d")
        .hasMessageContaining("3 channels");
    assertThatThrownBy(() -> Functions.add(g, x, Var.constant(Tensor.zeros(1, 3, 4, 5))))
        .hasMessageContaining("add");
  }

  @Test
  void backwardRunsOnceAndNeedsAScalar() {
    Var x = Var.param("x", Tensor.of(new float[] {1, 2}, 1, 2));
    Graph g = Graph.training(K);
    Var y = Functions.relu(g, x);
    assertThatThrownBy(() -> g.backward(y)).hasMessageContaining("scalar");
    Var l = Functions.reconLoss(g, y, Tensor.zeros(1, 2), 2.0);
    g.backward(l);
    assertThatThrownBy(() -> g.backward(l)).isInstanceOf(IllegalStateException.class);
  }
}
