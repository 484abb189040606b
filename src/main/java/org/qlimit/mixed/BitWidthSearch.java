package org.qlimit.mixed;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.qlimit.recon.BitWidths;
import org.qlimit.util.Check;

/**
 * The per-layer weight bit widths of a mixed-precision run (ALGORITHMS.md §8): the genetic search
 * on the full objective, checked by the genetic search and the exact dynamic program on the
 * diagonal-only objective, and the keep-uniform rule. The searched assignment is used only if its
 * objective is at least {@code minGain} (a fraction) below that of the best uniform assignment
 * that fits the budget; otherwise that uniform assignment is kept. The sensitivities are an
 * estimate (FP inputs, no account of later blocks compensating earlier errors), and predicted
 * gains of a few percent did not carry over to accuracy (docs/mixed-precision.md), so a small
 * predicted gain does not justify leaving uniform.
 */
public final class BitWidthSearch {
  private BitWidthSearch() {}

  /**
   * The assignment a mixed run reconstructs, with its search record.
   *
   * @param bits bits per searched layer (layer name → bits, in the cost model's order)
   * @param allBits bits per layer, the pinned first and last layers included
   * @param objective the full objective of {@code bits}
   * @param diagonalObjective its diagonal-only objective
   * @param sizeBits weight size of {@code bits} in bits
   * @param bitOps BitOPs per image of {@code bits}
   * @param generations generations the genetic search ran
   * @param dpObjective the dynamic program's diagonal-only objective (the check)
   * @param gaDiagonalObjective the genetic search's diagonal-only objective (the check)
   * @param dpQuantum the dynamic program's budget cell (1 = exact)
   * @param searchedBits the GA's assignment (equal to {@code bits} unless the uniform one was
   *     kept)
   * @param searchedObjective its objective
   * @param uniformBits width of the best uniform assignment within the budget, 0 if none fits
   * @param uniformObjective its objective (NaN if none fits)
   * @param keptUniform whether the uniform assignment was kept ({@code minGain})
   * @param minGain the fraction of |uniform objective| the searched one had to gain
   */
  public record Choice(Map<String, Integer> bits, Map<String, Integer> allBits, double objective,
      double diagonalObjective, long sizeBits, long bitOps, int generations, double dpObjective,
      double gaDiagonalObjective, long dpQuantum, Map<String, Integer> searchedBits,
      double searchedObjective, int uniformBits, double uniformObjective, boolean keptUniform,
      double minGain) {}

  /**
   * Searches the assignment under {@code budget} with activations at {@code abits} (32 = FP), the
   * genetic searches seeded with {@code seed}, then applies the keep-uniform rule with
   * {@code minGain} in [0, 1).
   *
   * @throws IllegalStateException when an objective is not finite
   */
  public static Choice choose(CostModel costs, Sensitivity sensitivity, Budget budget, int abits,
      long seed, double minGain) {
    SearchProblem full = SearchProblem.of(costs, sensitivity, budget, abits, true);
    SearchProblem diagonal = SearchProblem.of(costs, sensitivity, budget, abits, false);
    GeneticSearch.Config gc = GeneticSearch.Config.defaults();
    GeneticSearch.Result r = new GeneticSearch(full, gc).run(seed);
    GeneticSearch.Result rd = new GeneticSearch(diagonal, gc).run(seed);
    DynamicProgram.Solution dp = DynamicProgram.solve(diagonal);
    Check.state(Double.isFinite(r.objective()), "search: objective %s is not finite",
        r.objective());
    int uniformChoice = -1;
    double uniformObjective = Double.NaN;
    for (int c = 0; c < full.choices(); c++) {
      int[] a = new int[full.size()];
      Arrays.fill(a, c);
      if (full.feasible(a)) {
        double o = full.objective(a);
        Check.state(Double.isFinite(o), "search: uniform objective %s is not finite", o);
        if (uniformChoice < 0 || o < uniformObjective) {
          uniformChoice = c;
          uniformObjective = o;
        }
      }
    }
    // The searched assignment must be lower by minGain·|U| (terms measured with quantized
    // activations may be negative, so the margin is taken on |U|).
    boolean keep = uniformChoice >= 0
        && !(r.objective() <= uniformObjective - minGain * Math.abs(uniformObjective));
    int[] chosen = r.choices();
    if (keep) {
      chosen = new int[full.size()];
      Arrays.fill(chosen, uniformChoice);
    }
    Map<String, Integer> bits = full.toBits(chosen);
    Map<String, Integer> all = new LinkedHashMap<>();
    for (LayerCost c : costs.layers()) {
      all.put(c.layer(), c.pinned() ? BitWidths.PINNED_BITS : bits.get(c.layer()));
    }
    return new Choice(bits, all, full.objective(chosen), full.diagonalObjective(chosen),
        costs.sizeBits(bits), costs.bitOps(bits, abits), r.generations(),
        dp.objective(), rd.objective(), dp.quantum(), full.toBits(r.choices()), r.objective(),
        uniformChoice < 0 ? 0 : full.bits(uniformChoice), uniformObjective, keep, minGain);
  }
}
