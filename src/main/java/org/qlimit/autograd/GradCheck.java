package org.qlimit.autograd;

import java.util.List;
import java.util.function.Function;
import org.qlimit.kernel.Kernels;

/**
 * Finite-difference gradient checks: compares every analytic gradient element with the central
 * difference (f(θ + h) − f(θ − h)) / 2h, where the two loss values are taken in double.
 *
 * <p>The loss function builds a fresh graph for each evaluation, so the check also exercises the
 * forward code path exactly as training does.
 */
public final class GradCheck {
  private GradCheck() {}

  /** Worst disagreement found. */
  public record Report(String param, int index, double analytic, double numeric, double error) {
    @Override
    public String toString() {
      return String.format("%s[%d]: analytic %.6g numeric %.6g (error %.3g)", param, index,
          analytic, numeric, error);
    }
  }

  /**
   * Checks d loss / d p for every element of every parameter. The error of one element is
   * |a − n| / max(1, |a|, |n|) (absolute for small gradients, relative for large ones).
   *
   * @param loss builds the scalar loss on the given graph (called 1 + 2·elements times)
   * @param params the parameters to check (their gradients are reset)
   * @param h the finite-difference step
   * @return the element with the largest error
   */
  public static Report check(Kernels kernels, Function<Graph, Var> loss, List<Var> params,
      double h) {
    for (Var p : params) {
      p.zeroGrad();
    }
    Graph g = Graph.training(kernels);
    Var l = loss.apply(g);
    g.backward(l);
    Report worst = new Report("", -1, 0, 0, 0);
    for (Var p : params) {
      float[] w = p.value().data();
      float[] ga = p.grad().data().clone();
      for (int i = 0; i < w.length; i++) {
        float orig = w[i];
        w[i] = (float) (orig + h);
        double hp = (double) w[i] - orig;
        double fp = loss.apply(Graph.inference(kernels)).value().item();
        w[i] = (float) (orig - h);
        double hm = orig - (double) w[i];
        double fm = loss.apply(Graph.inference(kernels)).value().item();
        w[i] = orig;
        double num = (fp - fm) / (hp + hm);
        double a = ga[i];
        double err = Math.abs(a - num) / Math.max(1.0, Math.max(Math.abs(a), Math.abs(num)));
        if (err > worst.error()) {
          worst = new Report(p.name(), i, a, num, err);
        }
      }
      p.zeroGrad();
    }
    return worst;
  }
}
