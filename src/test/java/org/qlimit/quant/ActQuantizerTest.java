package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/** A fixed-step activation quantizer against a learnable one with the same parameters. */
class ActQuantizerTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));

  /** Forward values and dL/dx of one quantizer on x, with loss = reconLoss(q(x), target). */
  private static float[][] run(ActQuantizer q, float[] x, Tensor target) {
    Graph g = Graph.training(K);
    Var xv = Var.param("x", Tensor.of(x.clone(), 2, 3, 4, 5));
    Var y = q.apply(g, xv, null, 1f);
    g.backward(Functions.reconLoss(g, y, target, 2.0));
    return new float[][] {y.value().contiguous().data().clone(), xv.grad().data().clone()};
  }

  @Test
  void fixedStepGivesTheSameValuesAndInputGradientsButNoStepGradient() {
    QParams p = QParams.perTensor(0.25f, 3f, QScheme.asymmetric(3));
    float[] x = Rand.tensor(11, 2, 3, 4, 5).data();
    Tensor target = Rand.tensor(12, 2, 3, 4, 5);
    ActQuantizer learnable = new ActQuantizer("site", p, false);
    ActQuantizer fixed = ActQuantizer.fixed("site", p);

    float[][] a = run(learnable, x, target);
    float[][] b = run(fixed, x, target);

    assertThat(b[0]).containsExactly(a[0]);
    assertThat(b[1]).containsExactly(a[1]);
    // the values lie on the 3-bit grid s·(q − z), q in [0, 7]
    for (float v : b[0]) {
      float q = v / 0.25f + 3f;
      assertThat(q).isEqualTo((float) Math.rint(q)).isBetween(0f, 7f);
    }
    assertThat(learnable.scale().requiresGrad()).isTrue();
    assertThat(learnable.scale().grad().data()[0]).isNotZero();
    assertThat(fixed.scale().requiresGrad()).isFalse();
    assertThat(fixed.params().scale(0)).isEqualTo(0.25f);
  }
}
