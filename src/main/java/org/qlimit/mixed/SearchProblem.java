package org.qlimit.mixed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.recon.BitWidths;
import org.qlimit.util.Check;

/**
 * A bit-assignment instance (ALGORITHMS.md §8): n searched layers, each taking one of the
 * candidate widths {@code bits} (ascending); choice c of layer i costs {@code cost[i][c]}
 * (strictly increasing in c) and has the diagonal sensitivity {@code diag[i][c]}; each intra-block
 * pair (i, j) adds {@code off[ci][cj]}. A fixed cost (the pinned layers) is added to every
 * assignment. Minimise Σ diag + Σ off subject to fixed + Σ cost ≤ budget.
 *
 * <p>Immutable; objective and cost of an assignment are summed in layer order, then pair order.
 */
public final class SearchProblem {
  /** The off-diagonal term of layers i &lt; j: {@code off[ci][cj]}. */
  public record Pair(int i, int j, double[][] off) {}

  private final List<String> layers;
  private final int[] bits;
  private final long[][] cost;
  private final double[][] diag;
  private final List<Pair> pairs;
  private final long fixedCost;
  private final long budget;
  /** Per layer: indices into {@link #pairs} of the pairs it belongs to. */
  private final int[][] pairsOf;

  public SearchProblem(List<String> layers, int[] bits, long[][] cost, double[][] diag,
      List<Pair> pairs, long fixedCost, long budget) {
    int n = layers.size();
    Check.arg(n >= 1, "search problem: no layers to assign");
    Check.arg(bits.length >= 1, "search problem: no candidate bit widths");
    for (int c = 1; c < bits.length; c++) {
      Check.arg(bits[c] > bits[c - 1], "candidate bit widths must be ascending and distinct: %s",
          Arrays.toString(bits));
    }
    Check.arg(cost.length == n && diag.length == n, "search problem: %d layers but %d cost rows "
        + "and %d sensitivity rows", n, cost.length, diag.length);
    for (int i = 0; i < n; i++) {
      Check.arg(cost[i].length == bits.length && diag[i].length == bits.length,
          "search problem: layer %s needs %d costs and sensitivities", layers.get(i), bits.length);
      for (int c = 1; c < bits.length; c++) {
        Check.arg(cost[i][c] > cost[i][c - 1], "layer %s: cost must grow with the bit width",
            layers.get(i));
      }
    }
    this.layers = List.copyOf(layers);
    this.bits = bits.clone();
    this.cost = deepCopy(cost);
    this.diag = deepCopy(diag);
    this.pairs = List.copyOf(pairs);
    this.fixedCost = fixedCost;
    this.budget = budget;
    List<List<Integer>> adj = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      adj.add(new ArrayList<>());
    }
    for (int p = 0; p < this.pairs.size(); p++) {
      Pair q = this.pairs.get(p);
      Check.arg(q.i() >= 0 && q.i() < q.j() && q.j() < n, "pair (%d, %d) out of range", q.i(),
          q.j());
      adj.get(q.i()).add(p);
      adj.get(q.j()).add(p);
    }
    pairsOf = new int[n][];
    for (int i = 0; i < n; i++) {
      pairsOf[i] = adj.get(i).stream().mapToInt(Integer::intValue).toArray();
    }
  }

  /**
   * The instance for a model: the searched layers of {@code costs} with their sensitivities.
   * Throws IllegalArgumentException with a one-line message when no assignment fits the budget.
   */
  public static SearchProblem of(CostModel costs, Sensitivity s, Budget budget, int abits,
      boolean withPairs) {
    List<LayerCost> free = costs.free();
    Check.arg(free.size() == s.layers().size(), "sensitivities cover %d layers, the model has %d "
        + "searched layers", s.layers().size(), free.size());
    int[] bits = s.bits();
    long[][] cost = new long[free.size()][bits.length];
    for (int i = 0; i < free.size(); i++) {
      Check.arg(free.get(i).layer().equals(s.layers().get(i)), "sensitivity layer %s does not "
          + "match model layer %s", s.layers().get(i), free.get(i).layer());
      for (int c = 0; c < bits.length; c++) {
        cost[i][c] = budget.cost(free.get(i), bits[c], abits);
      }
    }
    long fixed = 0;
    for (LayerCost c : costs.layers()) {
      if (c.pinned()) {
        fixed += budget.cost(c, BitWidths.PINNED_BITS, abits);
      }
    }
    List<Pair> pairs = new ArrayList<>();
    if (withPairs) {
      for (Sensitivity.PairTerm t : s.pairs()) {
        pairs.add(new Pair(t.i(), t.j(), t.off()));
      }
    }
    checkFeasible(costs, budget, bits[0], abits);
    return new SearchProblem(s.layers(), bits, cost, s.diag(), pairs, fixed, budget.limit());
  }

  /**
   * Throws IllegalArgumentException (one line) when even the smallest assignment, every searched
   * layer at {@code minBits}, exceeds the budget.
   */
  public static void checkFeasible(CostModel costs, Budget budget, int minBits, int abits) {
    long min = 0;
    for (LayerCost c : costs.layers()) {
      min += budget.cost(c, c.pinned() ? BitWidths.PINNED_BITS : minBits, abits);
    }
    if (min > budget.limit()) {
      throw new IllegalArgumentException("budget " + budget.description() + " cannot be met: the "
          + "smallest assignment (every searched layer at " + minBits + " bits, pinned layers "
          + "at 8) needs " + budget.format(min) + "; raise the budget");
    }
  }

  private static long[][] deepCopy(long[][] a) {
    long[][] o = new long[a.length][];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i].clone();
    }
    return o;
  }

  private static double[][] deepCopy(double[][] a) {
    double[][] o = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i].clone();
    }
    return o;
  }

  public int size() {
    return layers.size();
  }

  public int choices() {
    return bits.length;
  }

  public List<String> layers() {
    return layers;
  }

  public int bits(int c) {
    return bits[c];
  }

  public long cost(int i, int c) {
    return cost[i][c];
  }

  public double diag(int i, int c) {
    return diag[i][c];
  }

  public List<Pair> pairs() {
    return pairs;
  }

  public long fixedCost() {
    return fixedCost;
  }

  public long budget() {
    return budget;
  }

  /** The cost of the cheapest assignment (all layers at the smallest width), fixed part included. */
  public long minimumCost() {
    long s = fixedCost;
    for (int i = 0; i < size(); i++) {
      s += cost[i][0];
    }
    return s;
  }

  /** Total cost (fixed part included) of choice indices {@code a}. */
  public long cost(int[] a) {
    long s = fixedCost;
    for (int i = 0; i < a.length; i++) {
      s += cost[i][a[i]];
    }
    return s;
  }

  public boolean feasible(int[] a) {
    return cost(a) <= budget;
  }

  /** Σ diag in layer order. */
  public double diagonalObjective(int[] a) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += diag[i][a[i]];
    }
    return s;
  }

  /** Σ diag (layer order) + Σ off (pair order). */
  public double objective(int[] a) {
    double s = diagonalObjective(a);
    for (Pair p : pairs) {
      s += p.off()[a[p.i()]][a[p.j()]];
    }
    return s;
  }

  /** Change of the objective when layer i moves from a[i] to choice c (others fixed). */
  public double delta(int[] a, int i, int c) {
    double d = diag[i][c] - diag[i][a[i]];
    for (int p : pairsOf[i]) {
      Pair q = pairs.get(p);
      d += q.i() == i ? q.off()[c][a[q.j()]] - q.off()[a[i]][a[q.j()]]
          : q.off()[a[q.i()]][c] - q.off()[a[q.i()]][a[i]];
    }
    return d;
  }

  /** Layer name → bits for choice indices {@code a}. */
  public Map<String, Integer> toBits(int[] a) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < a.length; i++) {
      m.put(layers.get(i), bits[a[i]]);
    }
    return m;
  }
}
