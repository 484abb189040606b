package org.qlimit.quant;

import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/**
 * The activation quantizer that reconstruction runs: held bit for bit to the documented
 * definitions ({@link FakeQuant#fakeQuant}, {@link FakeQuant#backward}, {@link QDropMask#mask},
 * {@link QDropMask#mixBackward}), its gradients checked in double precision against the LSQ
 * surrogate, and a fixed-step quantizer against a learnable one.
 */
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

  /** Σ w_i · y_i as a scalar loss, so that dL/dy = w exactly. */
  private static Var dot(Graph g, Var y, float[] w) {
    float[] yd = y.value().contiguous().data();
    double acc = 0;
    for (int i = 0; i < yd.length; i++) {
      acc += (double) w[i] * yd[i];
    }
    return Functions.custom(g, "dot", Tensor.scalar((float) acc), new Var[] {y}, dl -> {
      float[] gy = y.grad().data();
      for (int i = 0; i < gy.length; i++) {
        gy[i] += w[i] * dl.data()[0];
      }
    });
  }

  private static float[] uniform(long seed, int n, double lo, double hi) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (lo + (hi - lo) * r.nextDouble());
    }
    return v;
  }

  /**
   * On a tensor large enough to be split over threads, with and without dropping: the output,
   * dL/dx and dL/ds equal, bit for bit, what the definitions give when composed by hand
   * (forward: fake-quantize, then keep the quantized value where the mask says; backward: split
   * dy by the mask, then the quantizer's STE and LSQ gradient on the kept part).
   */
  @ParameterizedTest
  @CsvSource({"1,false", "2,false", "1,true", "2,true"})
  void equalsTheDefinitionsBitForBit(int threads, boolean dropping) {
    int[] shape = {2, 3, 40, 40}; // 9,600 elements: above the parallel threshold
    int n = 9600;
    QParams p = QParams.perTensor(0.13f, 5f, QScheme.asymmetric(3));
    float[] x = uniform(21, n, -1.5, 2.0);
    float[] w = uniform(22, n, -1, 1);
    Dropping.Site drop = dropping ? new Dropping.Site(1005, 7, 3, 0.5f) : null;
    float g = FakeQuant.lsqGradScale(n, p.scheme().qmax());

    ActQuantizer q = new ActQuantizer("site", p, false);
    Graph graph = Graph.training(Kernels.of(NumericsConfig.defaults().withThreads(threads)));
    Var xv = Var.param("x", Tensor.of(x.clone(), shape));
    Var y = q.apply(graph, xv, drop, -1f);
    graph.backward(dot(graph, y, w));

    float[] yRef = new float[n];
    FakeQuant.fakeQuant(yRef, x, p, n);
    byte[] keep = new byte[n];
    java.util.Arrays.fill(keep, (byte) 1);
    if (dropping) {
      QDropMask.mask(keep, 0, n, drop.seed(), drop.site(), drop.step(), drop.prob());
      QDropMask.apply(yRef, yRef, x, keep, 0, n);
    }
    float[] dx = new float[n];
    float[] dyq = new float[n];
    QDropMask.mixBackward(dyq, dx, w, keep, 0, n);
    float[] ds = new float[1];
    FakeQuant.backward(dx, ds, dyq, x, p, n, g);

    assertThat(y.value().contiguous().data()).containsExactly(yRef);
    assertThat(xv.grad().data()).containsExactly(dx);
    assertThat(q.scale().grad().data()[0]).isEqualTo(ds[0]);
    if (dropping) {
      int kept = 0;
      for (byte k : keep) {
        kept += k;
      }
      assertThat(kept).isBetween(n / 2 - 300, n / 2 + 300);
    }
  }

  /**
   * Gradients in double precision, with dropping: dL/dx is dy where an element was dropped, the
   * straight-through dy inside the clamp range and 0 outside it where kept; dL/ds is g times the
   * derivative of the LSQ surrogate (⌊·⌉ held at its value) over the kept elements, by central
   * differences in double.
   */
  @Test
  void gradientsMatchTheSurrogateInDouble() {
    int n = 600;
    QScheme sch = QScheme.asymmetric(2);
    float s0 = 0.3f;
    float z = 1f;
    float[] x = uniform(31, n, -1.0, 1.5);
    float[] w = uniform(32, n, -1, 1);
    Dropping.Site drop = new Dropping.Site(1005, 2, 9, 0.5f);
    ActQuantizer q = new ActQuantizer("site", QParams.perTensor(s0, z, sch), false);
    Graph graph = Graph.training(K);
    Var xv = Var.param("x", Tensor.of(x.clone(), 6, 100));
    Var y = q.apply(graph, xv, drop, 0.5f);
    graph.backward(dot(graph, y, w));
    float[] dx = xv.grad().data();

    byte[] keep = new byte[n];
    QDropMask.mask(keep, 0, n, drop.seed(), drop.site(), drop.step(), drop.prob());
    double h = 1e-6;
    double dsExpected = 0;
    for (int i = 0; i < n; i++) {
      double r = Math.rint(x[i] / s0);
      double u = r + z;
      if (keep[i] == 0) {
        assertThat(dx[i]).as("dropped element %d", i).isEqualTo(w[i]);
        continue;
      }
      boolean inside = u >= sch.qmin() && u <= sch.qmax();
      assertThat(dx[i]).as("kept element %d", i).isEqualTo(inside ? w[i] : 0f);
      double plus = surrogate(x[i], s0 + h, s0, r, z, sch, inside);
      double minus = surrogate(x[i], s0 - h, s0, r, z, sch, inside);
      dsExpected += w[i] * (plus - minus) / (2 * h);
    }
    assertThat(dsExpected).isNotZero();
    assertThat((double) q.scale().grad().data()[0]).isCloseTo(0.5 * dsExpected,
        within(1e-5 * Math.max(1, Math.abs(dsExpected))));
  }

  /**
   * LSQ's surrogate of x̂(s) near s0, with R = ⌊x/s0⌉ held fixed: (R + x/s − x/s0)·s where the
   * clamp is inactive at s0 (bounds included, as the straight-through rule), else the clamped
   * level (clamp(R + z) − z)·s.
   */
  private static double surrogate(float x, double s, float s0, double r, float z, QScheme sch,
      boolean inside) {
    if (inside) {
      return (r + x / s - (double) x / s0) * s;
    }
    return (Math.min(Math.max(r + z, sch.qmin()), sch.qmax()) - z) * s;
  }
}
