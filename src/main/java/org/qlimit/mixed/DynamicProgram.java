package org.qlimit.mixed;

import java.util.Arrays;
import org.qlimit.util.Check;

/**
 * Exact minimisation of the diagonal-only objective Σ_i diag[i][c_i] under the budget: a
 * multiple-choice knapsack solved by dynamic programming over the remaining budget.
 *
 * <p>Discretisation: all layer costs are first divided by their greatest common divisor g and
 * the free budget B = budget − fixed cost by g, rounded down (exact: a sum of multiples of g fits
 * B iff it fits g·⌊B/g⌋). Sizes (params · bits) and BitOPs of real networks share large factors,
 * so this alone usually leaves a few thousand cells. If B/g still exceeds {@code maxCells}, the
 * remaining budget is cut into at most {@code maxCells} cells of q = ⌈(B/g) / maxCells⌉ units;
 * every cost is rounded up to whole cells and the budget down, which keeps every DP solution
 * feasible under the true budget. When q = 1 the result is the exact optimum; otherwise it is
 * optimal for the rounded instance only.
 *
 * <p>Ties: among equal values the smaller choice index of the later layer wins (the DP compares
 * with strict &lt;, choices in ascending order).
 */
public final class DynamicProgram {
  private DynamicProgram() {}

  /** The default number of budget cells. */
  public static final int DEFAULT_CELLS = 200_000;

  /**
   * A solution.
   *
   * @param choices choice index per layer
   * @param objective its diagonal-only objective
   * @param quantum the rounding factor q (1 = exact)
   */
  public record Solution(int[] choices, double objective, long quantum) {
    public boolean exact() {
      return quantum == 1;
    }
  }

  public static Solution solve(SearchProblem p) {
    return solve(p, DEFAULT_CELLS);
  }

  public static Solution solve(SearchProblem p, int maxCells) {
    Check.arg(maxCells >= 1, "DP: maxCells must be >= 1");
    long free = p.budget() - p.fixedCost();
    Check.arg(p.minimumCost() <= p.budget(), "DP: no assignment fits the budget");
    int n = p.size();
    int k = p.choices();
    long g = 0;
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < k; c++) {
        g = gcd(g, p.cost(i, c));
      }
    }
    g = Math.max(g, 1);
    free /= g;
    long q = Math.max(1, (free + maxCells - 1) / maxCells);
    int cap = (int) (free / q);
    int[][] w = new int[n][k];
    for (int i = 0; i < n; i++) {
      for (int c = 0; c < k; c++) {
        long cells = (p.cost(i, c) / g + q - 1) / q;
        w[i][c] = (int) Math.min(cells, (long) cap + 1);
      }
    }
    // best[b] = min objective of layers 0..i using at most b cells; from[i][b] = choice of layer i.
    double[] best = new double[cap + 1];
    double[] next = new double[cap + 1];
    byte[][] from = new byte[n][cap + 1];
    Arrays.fill(best, 0.0);
    for (int i = 0; i < n; i++) {
      Arrays.fill(next, Double.POSITIVE_INFINITY);
      for (int b = 0; b <= cap; b++) {
        for (int c = 0; c < k; c++) {
          int rest = b - w[i][c];
          if (rest < 0 || best[rest] == Double.POSITIVE_INFINITY) {
            continue;
          }
          double v = best[rest] + p.diag(i, c);
          if (v < next[b]) {
            next[b] = v;
            from[i][b] = (byte) c;
          }
        }
      }
      double[] t = best;
      best = next;
      next = t;
    }
    Check.state(best[cap] != Double.POSITIVE_INFINITY,
        "DP: the rounded budget admits no assignment; raise the number of cells");
    int[] a = new int[n];
    int b = cap;
    for (int i = n - 1; i >= 0; i--) {
      a[i] = from[i][b];
      b -= w[i][a[i]];
    }
    return new Solution(a, p.diagonalObjective(a), q);
  }

  private static long gcd(long a, long b) {
    while (b != 0) {
      long t = a % b;
      a = b;
      b = t;
    }
    return Math.abs(a);
  }
}
