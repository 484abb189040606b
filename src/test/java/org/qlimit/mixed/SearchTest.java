package org.qlimit.mixed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.testing.QuietTest;

/** The exact DP against brute force, the GA against the DP, GA determinism, infeasible budgets. */
class SearchTest extends QuietTest {
  private static final int[] BITS = {2, 3, 4, 8};

  /** A random instance: costs params·bits with small integer params; diag falls with the bits. */
  static SearchProblem random(long seed, int n, boolean withPairs, double budgetFraction) {
    SplittableRandom r = new SplittableRandom(seed);
    List<String> names = new ArrayList<>();
    long[][] cost = new long[n][BITS.length];
    double[][] diag = new double[n][BITS.length];
    long min = 0;
    long max = 0;
    for (int i = 0; i < n; i++) {
      names.add("l" + i);
      int params = 1 + r.nextInt(40);
      double scale = r.nextDouble() * 10;
      for (int c = 0; c < BITS.length; c++) {
        cost[i][c] = (long) params * BITS[c];
        diag[i][c] = scale * Math.pow(2, -2.0 * BITS[c]) * (1 + 0.3 * r.nextDouble());
      }
      min += cost[i][0];
      max += cost[i][BITS.length - 1];
    }
    List<SearchProblem.Pair> pairs = new ArrayList<>();
    if (withPairs) {
      for (int i = 0; i + 1 < n; i += 2) {
        double[][] off = new double[BITS.length][BITS.length];
        for (int a = 0; a < BITS.length; a++) {
          for (int b = 0; b < BITS.length; b++) {
            off[a][b] = 0.2 * (r.nextDouble() - 0.3) * Math.sqrt(diag[i][a] * diag[i + 1][b]);
          }
        }
        pairs.add(new SearchProblem.Pair(i, i + 1, off));
      }
    }
    long fixed = 50;
    long budget = fixed + min + (long) ((max - min) * budgetFraction);
    return new SearchProblem(names, BITS, cost, diag, pairs, fixed, budget);
  }

  /** Exhaustive search of the (full) objective. */
  static double bruteForce(SearchProblem p, boolean diagonalOnly) {
    int n = p.size();
    int k = p.choices();
    int[] a = new int[n];
    double best = Double.POSITIVE_INFINITY;
    long total = (long) Math.pow(k, n);
    for (long code = 0; code < total; code++) {
      long c = code;
      for (int i = 0; i < n; i++) {
        a[i] = (int) (c % k);
        c /= k;
      }
      if (p.feasible(a)) {
        best = Math.min(best, diagonalOnly ? p.diagonalObjective(a) : p.objective(a));
      }
    }
    return best;
  }

  @Test
  void dynamicProgramIsOptimalAgainstBruteForce() {
    for (long seed = 1; seed <= 20; seed++) {
      SearchProblem p = random(seed, 2 + (int) (seed % 5), false, 0.1 + 0.04 * seed);
      DynamicProgram.Solution s = DynamicProgram.solve(p);
      assertThat(s.exact()).isTrue();
      assertThat(p.feasible(s.choices())).isTrue();
      assertThat(s.objective()).as("seed %d", seed).isEqualTo(bruteForce(p, true));
    }
  }

  @Test
  void coarseDynamicProgramStaysFeasible() {
    SearchProblem p = random(7, 6, false, 0.4);
    DynamicProgram.Solution s = DynamicProgram.solve(p, 10);
    assertThat(s.quantum()).isGreaterThan(1);
    assertThat(p.feasible(s.choices())).isTrue();
    assertThat(s.objective()).isGreaterThanOrEqualTo(DynamicProgram.solve(p).objective());
  }

  @Test
  void geneticSearchReachesTheDynamicProgramOptimum() {
    for (long seed = 1; seed <= 8; seed++) {
      SearchProblem p = random(100 + seed, 12 + (int) (seed % 6), false, 0.15 + 0.08 * seed);
      double exact = DynamicProgram.solve(p).objective();
      GeneticSearch.Result r = new GeneticSearch(p, GeneticSearch.Config.defaults()).run(seed);
      assertThat(p.feasible(r.choices())).isTrue();
      assertThat(r.objective()).as("instance %d", seed).isEqualTo(exact);
    }
  }

  @Test
  void geneticSearchFindsTheOptimumWithPairTerms() {
    for (long seed = 1; seed <= 5; seed++) {
      SearchProblem p = random(200 + seed, 6, true, 0.2 + 0.1 * seed);
      GeneticSearch.Result r = new GeneticSearch(p, GeneticSearch.Config.defaults()).run(seed);
      assertThat(p.feasible(r.choices())).isTrue();
      assertThat(r.objective()).isEqualTo(bruteForce(p, false));
    }
  }

  @Test
  void sameSeedSameAssignment() {
    SearchProblem p = random(42, 16, true, 0.35);
    GeneticSearch.Config small = new GeneticSearch.Config(12, 15, 0.9, 0.3, 2, 1, 15);
    GeneticSearch.Result a = new GeneticSearch(p, small).run(5);
    GeneticSearch.Result b = new GeneticSearch(p, small).run(5);
    assertThat(a.choices()).isEqualTo(b.choices());
    assertThat(Double.doubleToRawLongBits(a.objective()))
        .isEqualTo(Double.doubleToRawLongBits(b.objective()));
  }

  @Test
  void repairBringsAnyAssignmentUnderBudget() {
    SearchProblem p = random(9, 10, true, 0.05);
    int[] g = new int[p.size()];
    java.util.Arrays.fill(g, BITS.length - 1);
    new GeneticSearch(p, GeneticSearch.Config.defaults()).repair(g);
    assertThat(p.feasible(g)).isTrue();
  }

  @Test
  void infeasibleBudgetGivesAClearError() {
    SearchProblem p = random(3, 4, false, 0.5);
    Sensitivity s = new Sensitivity(BITS, p.layers(), List.of("u", "u", "u", "u"),
        new double[4][4], List.of());
    List<LayerCost> layers = new ArrayList<>();
    layers.add(new LayerCost("first", "stem", 10, 100, true));
    for (int i = 0; i < 4; i++) {
      layers.add(new LayerCost("l" + i, "u", 100, 1000, false));
    }
    layers.add(new LayerCost("last", "head", 10, 10, true));
    CostModel cm = new CostModel(layers);
    // smallest: 400·2 + 20·8 = 960 bits = 0.00012 MB
    assertThatThrownBy(() -> SearchProblem.of(cm, s, Budget.sizeMegabytes(0.0001), 4, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be met")
        .hasMessageContaining("0.0001 MB")
        .hasMessageNotContaining("\n");
    assertThat(SearchProblem.of(cm, s, Budget.sizeMegabytes(0.00012), 4, true).minimumCost())
        .isEqualTo(960);
  }
}
