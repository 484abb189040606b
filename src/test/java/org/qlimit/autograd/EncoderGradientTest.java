package org.qlimit.autograd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.Erf;
import org.qlimit.util.NumericsConfig;

/**
 * Gradient checks in double of the transformer's backward rules: each rule's float gradient is
 * compared with central differences (h = 1e-6) of an independent double-precision forward written
 * here, on L = Σ r·y with fixed random r; the float forward is compared with the same double
 * forward.
 */
class EncoderGradientTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(2));
  private static final double H = 1e-6;

  /** A double-precision forward of the op: inputs (flat) to output (flat). */
  interface Ref {
    double[] f(double[][] in);
  }

  private static double[] dbl(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  /** Checks forward and every input's gradient; returns the worst gradient error. */
  private static double check(Function<Graph, Var> op, List<Var> inputs, Ref ref) {
    Graph g = Graph.training(K);
    Var y = op.apply(g);
    float[] r = Rand.normal(99, y.value().numel());
    float[] yd = y.value().data();
    double l = 0;
    for (int i = 0; i < yd.length; i++) {
      l += (double) r[i] * yd[i];
    }
    Var loss = Functions.custom(g, "project", Tensor.scalar((float) l), new Var[] {y}, dl -> {
      float[] dy = y.grad().data();
      for (int i = 0; i < dy.length; i++) {
        dy[i] += dl.data()[0] * r[i];
      }
    });
    for (Var v : inputs) {
      v.zeroGrad();
    }
    g.backward(loss);
    double[][] in = new double[inputs.size()][];
    for (int i = 0; i < in.length; i++) {
      in[i] = dbl(inputs.get(i).value().data());
    }
    double[] want = ref.f(in);
    assertThat(want).hasSize(yd.length);
    for (int i = 0; i < yd.length; i++) {
      assertThat(Math.abs(yd[i] - want[i])).as("forward %d", i)
          .isLessThanOrEqualTo(2e-6 * Math.max(1, Math.abs(want[i])));
    }
    double worst = 0;
    for (int v = 0; v < in.length; v++) {
      float[] ga = inputs.get(v).grad().data();
      for (int j = 0; j < in[v].length; j++) {
        double orig = in[v][j];
        in[v][j] = orig + H;
        double fp = project(ref.f(in), r);
        in[v][j] = orig - H;
        double fm = project(ref.f(in), r);
        in[v][j] = orig;
        double num = (fp - fm) / (2 * H);
        double err = Math.abs(ga[j] - num) / Math.max(1, Math.abs(num));
        assertThat(err).as("%s[%d]: analytic %s numeric %s", inputs.get(v).name(), j, ga[j], num)
            .isLessThan(1e-4);
        worst = Math.max(worst, err);
      }
    }
    return worst;
  }

  private static double project(double[] y, float[] r) {
    double s = 0;
    for (int i = 0; i < y.length; i++) {
      s += r[i] * y[i];
    }
    return s;
  }

  @Test
  void embeddingWithRepeatedIds() {
    Var table = Rand.param("table", 1, 6, 5);
    int[] ids = {3, 0, 3, 5, 3};
    check(g -> Functions.embedding(g, ids, table), List.of(table), in -> {
      double[] y = new double[ids.length * 5];
      for (int i = 0; i < ids.length; i++) {
        System.arraycopy(in[0], ids[i] * 5, y, i * 5, 5);
      }
      return y;
    });
    assertThatThrownBy(() -> Functions.embedding(Graph.inference(K), new int[] {1, 6}, table))
        .hasMessage("embedding: id 6 at position 1 outside the table's 6 rows");
  }

  @Test
  void layerNorm() {
    Var x = Rand.param("x", 2, 2, 3, 7);
    Var gamma = Rand.param("gamma", 3, 7);
    Var beta = Rand.param("beta", 4, 7);
    double eps = 1e-5;
    check(g -> Functions.layerNorm(g, x, gamma, beta, (float) eps), List.of(x, gamma, beta),
        in -> {
          double[] xs = in[0];
          double[] y = new double[xs.length];
          for (int r = 0; r < xs.length / 7; r++) {
            double mean = 0;
            for (int j = 0; j < 7; j++) {
              mean += xs[r * 7 + j] / 7;
            }
            double var = 0;
            for (int j = 0; j < 7; j++) {
              var += (xs[r * 7 + j] - mean) * (xs[r * 7 + j] - mean) / 7;
            }
            for (int j = 0; j < 7; j++) {
              y[r * 7 + j] = (xs[r * 7 + j] - mean) / Math.sqrt(var + eps) * in[1][j] + in[2][j];
            }
          }
          return y;
        });
  }

  @Test
  void geluErfForm() {
    float[] v = Rand.normal(5, 40);
    for (int i = 0; i < v.length; i++) {
      v[i] *= 3f;
    }
    Var x = Var.param("x", Tensor.of(v, 5, 8));
    check(g -> Functions.gelu(g, x), List.of(x), in -> {
      double[] y = new double[in[0].length];
      for (int i = 0; i < y.length; i++) {
        double t = in[0][i];
        y[i] = 0.5 * t * (1 + Erf.erf(t / Math.sqrt(2)));
      }
      return y;
    });
    // exact values: GELU(0) = 0, GELU(1) = Φ(1) = 0.8413447460685429 (Python: 0.5*(1+erf(1/√2)))
    float[] y = new float[2];
    K.gelu(y, new float[] {0f, 1f}, 2);
    assertThat(y).containsExactly(0f, (float) 0.8413447460685429);
  }

  @Test
  void tanhAndScale() {
    Var x = Rand.param("x", 6, 3, 9);
    check(g -> Functions.scale(g, Functions.tanh(g, x), 0.25f), List.of(x), in -> {
      double[] y = new double[in[0].length];
      for (int i = 0; i < y.length; i++) {
        y[i] = Math.tanh(in[0][i]) * 0.25;
      }
      return y;
    });
  }

  @Test
  void batchedMatmulBothLayouts() {
    Var a = Rand.param("a", 7, 3, 4, 5);
    Var b = Rand.param("b", 8, 3, 5, 6);
    Var bt = Rand.param("bt", 9, 3, 6, 5);
    check(g -> Functions.bmm(g, a, b, false), List.of(a, b), in -> bmmRef(in[0], in[1], false));
    check(g -> Functions.bmm(g, a, bt, true), List.of(a, bt), in -> bmmRef(in[0], in[1], true));
  }

  private static double[] bmmRef(double[] a, double[] b, boolean transB) {
    double[] y = new double[3 * 4 * 6];
    for (int t = 0; t < 3; t++) {
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 6; j++) {
          double s = 0;
          for (int p = 0; p < 5; p++) {
            s += a[(t * 4 + i) * 5 + p] * (transB ? b[(t * 6 + j) * 5 + p] : b[(t * 5 + p) * 6 + j]);
          }
          y[(t * 4 + i) * 6 + j] = s;
        }
      }
    }
    return y;
  }

  @Test
  void maskedSoftmaxOverAttentionScores() {
    // scores (B=2, heads=2, L=3, L=3); the second sequence has its last key masked
    Var x = Rand.param("x", 10, 2, 2, 3, 3);
    int[] mask = {1, 1, 1, 1, 1, 0};
    check(g -> Functions.maskedSoftmax(g, x, mask, 6), List.of(x), in -> {
      double[] y = new double[36];
      for (int r = 0; r < 12; r++) {
        int m = r / 6;
        double mx = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < 3; j++) {
          if (mask[m * 3 + j] != 0) {
            mx = Math.max(mx, in[0][r * 3 + j]);
          }
        }
        double s = 0;
        for (int j = 0; j < 3; j++) {
          s += mask[m * 3 + j] != 0 ? Math.exp(in[0][r * 3 + j] - mx) : 0;
        }
        for (int j = 0; j < 3; j++) {
          y[r * 3 + j] = mask[m * 3 + j] != 0 ? Math.exp(in[0][r * 3 + j] - mx) / s : 0;
        }
      }
      return y;
    });
  }

  @Test
  void headSplitMergeAndPositionSelect() {
    Var x = Rand.param("x", 11, 2, 3, 8);
    // split into 2 heads of 4, scale head-wise products through a matmul, merge, pick position 1
    check(g -> Functions.selectPosition(g,
            Functions.mergeHeads(g, Functions.tanh(g, Functions.splitHeads(g, x, 2)), 2), 1),
        List.of(x), in -> {
          double[] y = new double[2 * 8];
          for (int b = 0; b < 2; b++) {
            for (int j = 0; j < 8; j++) {
              y[b * 8 + j] = Math.tanh(in[0][(b * 3 + 1) * 8 + j]);
            }
          }
          return y;
        });
    // the split layout: y[b·heads + h][l][e] = x[b][l][h·D + e]
    Var s = Functions.splitHeads(Graph.inference(K), x, 2);
    assertThat(s.value().get(1 * 2 + 1, 2, 3)).isEqualTo(x.value().get(1, 2, 4 + 3));
  }
}
