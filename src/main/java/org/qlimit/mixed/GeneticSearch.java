package org.qlimit.mixed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.qlimit.util.Check;
import org.qlimit.util.Streams;

/**
 * A seeded genetic algorithm for {@link SearchProblem} (ALGORITHMS.md §8): a population of
 * assignments (one gene = the choice index of one layer), tournament selection, uniform
 * crossover, per-gene mutation, constraint repair and a greedy local improvement of every child
 * (a memetic GA).
 *
 * <ul>
 *   <li>Repair: while over budget, lower the width of the layer whose one-step decrease costs the
 *       least objective per unit of cost saved (ties: lowest layer index).</li>
 *   <li>Improvement: repeat the best improving feasible move, first among single-layer changes,
 *       then among two-layer changes (one up, one down), until none improves.</li>
 *   <li>Elitism keeps the best {@code elite} individuals; the run stops after {@code generations}
 *       or after {@code patience} generations without a better best.</li>
 * </ul>
 * All randomness comes from {@link Streams#GENETIC_SEARCH} under the seed; the population is
 * sorted by (objective, genes), so a seed fixes the result.
 */
public final class GeneticSearch {

  /**
   * GA settings.
   *
   * @param population individuals per generation
   * @param generations maximum generations
   * @param crossover probability that a child is a crossover (else a copy of one parent)
   * @param mutation per-gene mutation probability; ≤ 0 means 1/n
   * @param tournament tournament size for parent selection
   * @param elite best individuals copied unchanged into the next generation
   * @param patience generations without improvement before stopping
   */
  public record Config(int population, int generations, double crossover, double mutation,
      int tournament, int elite, int patience) {
    public Config {
      Check.arg(population >= 2, "GA population must be >= 2, got %d", population);
      Check.arg(generations >= 1, "GA generations must be >= 1, got %d", generations);
      Check.arg(crossover >= 0 && crossover <= 1, "GA crossover must be in [0, 1]");
      Check.arg(tournament >= 1 && elite >= 0 && elite < population, "GA: bad tournament/elite");
      Check.arg(patience >= 1, "GA patience must be >= 1");
    }

    public static Config defaults() {
      return new Config(48, 200, 0.9, -1, 3, 2, 40);
    }
  }

  /** Outcome: best assignment (choice indices), its objective and cost, generations run. */
  public record Result(int[] choices, double objective, long cost, int generations) {}

  private record Individual(int[] genes, double fitness) {}

  private final SearchProblem p;
  private final Config cfg;

  public GeneticSearch(SearchProblem p, Config cfg) {
    this.p = p;
    this.cfg = cfg;
  }

  public Result run(long seed) {
    Check.arg(p.minimumCost() <= p.budget(), "GA: no assignment fits the budget");
    SplittableRandom rng = Streams.GENETIC_SEARCH.random(seed);
    int n = p.size();
    double pm = cfg.mutation() > 0 ? cfg.mutation() : 1.0 / n;
    List<Individual> pop = new ArrayList<>();
    for (int k = 0; k < cfg.population(); k++) {
      int[] g = new int[n];
      for (int i = 0; i < n; i++) {
        g[i] = rng.nextInt(p.choices());
      }
      pop.add(finish(g));
    }
    sort(pop);
    Individual best = pop.get(0);
    int stale = 0;
    int gen = 0;
    while (gen < cfg.generations() && stale < cfg.patience()) {
      gen++;
      List<Individual> next = new ArrayList<>(pop.subList(0, cfg.elite()));
      while (next.size() < cfg.population()) {
        int[] a = select(pop, rng).genes();
        int[] b = select(pop, rng).genes();
        int[] child = a.clone();
        if (rng.nextDouble() < cfg.crossover()) {
          for (int i = 0; i < n; i++) {
            if (rng.nextBoolean()) {
              child[i] = b[i];
            }
          }
        }
        for (int i = 0; i < n; i++) {
          if (rng.nextDouble() < pm) {
            child[i] = rng.nextInt(p.choices());
          }
        }
        next.add(finish(child));
      }
      sort(next);
      pop = next;
      if (compare(pop.get(0), best) < 0) {
        best = pop.get(0);
        stale = 0;
      } else {
        stale++;
      }
    }
    return new Result(best.genes().clone(), best.fitness(), p.cost(best.genes()), gen);
  }

  private Individual select(List<Individual> pop, SplittableRandom rng) {
    Individual w = pop.get(rng.nextInt(pop.size()));
    for (int t = 1; t < cfg.tournament(); t++) {
      Individual c = pop.get(rng.nextInt(pop.size()));
      if (compare(c, w) < 0) {
        w = c;
      }
    }
    return w;
  }

  private static int compare(Individual a, Individual b) {
    int c = Double.compare(a.fitness(), b.fitness());
    return c != 0 ? c : Arrays.compare(a.genes(), b.genes());
  }

  private static void sort(List<Individual> pop) {
    pop.sort((Comparator<Individual>) GeneticSearch::compare);
  }

  private Individual finish(int[] g) {
    repair(g);
    improve(g);
    return new Individual(g, p.objective(g));
  }

  /** Lowers widths until the assignment fits (Modified: g). */
  void repair(int[] g) {
    long cost = p.cost(g);
    while (cost > p.budget()) {
      int bi = -1;
      int bc = -1;
      double bestRatio = Double.POSITIVE_INFINITY;
      for (int i = 0; i < g.length; i++) {
        if (g[i] == 0) {
          continue;
        }
        int c = g[i] - 1;
        double saved = p.cost(i, g[i]) - p.cost(i, c);
        double ratio = p.delta(g, i, c) / saved;
        if (ratio < bestRatio) {
          bestRatio = ratio;
          bi = i;
          bc = c;
        }
      }
      Check.state(bi >= 0, "repair: every layer is at its smallest width and still over budget");
      cost += p.cost(bi, bc) - p.cost(bi, g[bi]);
      g[bi] = bc;
    }
  }

  /** Greedy best-improvement local search over one- and two-layer moves (Modified: g). */
  void improve(int[] g) {
    final double eps = 1e-15;
    long cost = p.cost(g);
    while (true) {
      double bestD = -eps;
      int bi = -1;
      int bc = -1;
      for (int i = 0; i < g.length; i++) {
        for (int c = 0; c < p.choices(); c++) {
          if (c == g[i] || cost - p.cost(i, g[i]) + p.cost(i, c) > p.budget()) {
            continue;
          }
          double d = p.delta(g, i, c);
          if (d < bestD) {
            bestD = d;
            bi = i;
            bc = c;
          }
        }
      }
      if (bi >= 0) {
        cost += p.cost(bi, bc) - p.cost(bi, g[bi]);
        g[bi] = bc;
        continue;
      }
      // two-layer moves: i up, j down
      int bj = -1;
      int bcj = -1;
      for (int i = 0; i < g.length; i++) {
        for (int c = g[i] + 1; c < p.choices(); c++) {
          double di = p.delta(g, i, c);
          int old = g[i];
          long ci = cost - p.cost(i, old) + p.cost(i, c);
          g[i] = c;
          for (int j = 0; j < g.length; j++) {
            if (j == i) {
              continue;
            }
            for (int cj = 0; cj < g[j]; cj++) {
              if (ci - p.cost(j, g[j]) + p.cost(j, cj) > p.budget()) {
                continue;
              }
              double d = di + p.delta(g, j, cj);
              if (d < bestD) {
                bestD = d;
                bi = i;
                bc = c;
                bj = j;
                bcj = cj;
              }
            }
          }
          g[i] = old;
        }
      }
      if (bi < 0) {
        return;
      }
      cost += p.cost(bi, bc) - p.cost(bi, g[bi]) + p.cost(bj, bcj) - p.cost(bj, g[bj]);
      g[bi] = bc;
      g[bj] = bcj;
    }
  }
}
