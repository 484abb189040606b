package org.qlimit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.qlimit.data.TextDatasets;
import org.qlimit.mixed.BitWidthSearch;
import org.qlimit.mixed.Budget;
import org.qlimit.mixed.CostModel;
import org.qlimit.mixed.GeneticSearch;
import org.qlimit.mixed.LayerCost;
import org.qlimit.recon.BitWidths;
import org.qlimit.recon.ReconConfig;
import org.qlimit.run.MixedPrecision;
import org.qlimit.run.QuantizationRun;
import org.qlimit.run.RunListener;
import org.qlimit.util.NumericsConfig;

/**
 * The mixed-precision pipeline from options to results (ALGORITHMS.md §8): the library's
 * {@link MixedPrecision#prepare} (cost model, budgets, cached sensitivities), the search of
 * {@link BitWidthSearch} under a budget, reconstruction of the chosen assignment with
 * {@link QuantizeJob} (with {@link TextQuantizeJob} for BERT on the text sets, §11), result.json extended with the assignment, and a per-layer bit-width
 * picture.
 */
final class MixedJob {
  private MixedJob() {}

  static final ObjectMapper OM = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * {@link MixedPrecision#prepare} with the settings of {@code o}; its notes go to {@code log}.
   */
  static MixedPrecision.Prepared prepare(MixedOptions o, NumericsConfig nc, PrintStream log,
      Function<CostModel, List<Budget>> budgetsOf) throws IOException {
    o.validate();
    MixedPrecision.Settings settings = new MixedPrecision.Settings(o.input.model, o.input.arch,
        o.input.data, o.input.dataDir, o.parsedMethod(), o.choices(), o.abits, o.calib,
        o.evalLimit, o.sensitivityOptions(), o.reconConfig(o.choices()[0]), o.cacheDir);
    try {
      return MixedPrecision.prepare(settings, nc, budgetsOf, new RunListener() {
        @Override
        public void note(String line) {
          log.println(line);
        }
      });
    } catch (QuantizationRun.InputMismatch e) {
      throw new UsageError(e.getMessage());
    }
  }

  /** Budget from exactly one of the three options. */
  static Budget budget(Double sizeMb, Double avgWbits, Double bitopsG, CostModel costs) {
    int given = (sizeMb != null ? 1 : 0) + (avgWbits != null ? 1 : 0) + (bitopsG != null ? 1 : 0);
    if (given != 1) {
      throw new IllegalArgumentException("give exactly one of --size-budget-mb, --avg-wbits, "
          + "--bitops-budget");
    }
    return sizeMb != null ? Budget.sizeMegabytes(sizeMb)
        : avgWbits != null ? Budget.averageWeightBits(avgWbits, costs) : Budget.bitOpsGiga(bitopsG);
  }

  static void printChoice(PrintStream log, MixedPrecision.Prepared p, BitWidthSearch.Choice c, Budget b) {
    log.printf(Locale.ROOT, "  budget: %s%n", b.description());
    int width = 24;
    for (LayerCost l : p.costs().layers()) {
      width = Math.max(width, l.layer().length());
    }
    boolean sentences = p.model().inputShape().length == 1;
    String row = "  %-" + width + "s %8s %12s %5s%n";
    log.printf(Locale.ROOT, row, "layer", "params", "MACs", "bits");
    for (LayerCost l : p.costs().layers()) {
      log.printf(Locale.ROOT, "  %-" + width + "s %8d %12d %5d%s%n", l.layer(), l.params(),
          l.macs(), c.allBits().get(l.layer()), !l.pinned() ? ""
              : sentences ? "  (pinned, §11)" : "  (pinned, §5)");
    }
    log.printf(Locale.ROOT, "  size %.4f MB (%d bits), %.4f GBitOPs/%s; objective %.6g "
            + "(diagonal %.6g); GA %d generations%n", CostModel.megabytes(c.sizeBits()),
        c.sizeBits(), c.bitOps() / 1e9, sentences ? "sentence" : "image", c.objective(), c.diagonalObjective(), c.generations());
    log.printf(Locale.ROOT, "  check (diagonal-only objective): GA %.6g, DP %.6g%s%n",
        c.gaDiagonalObjective(), c.dpObjective(), c.dpQuantum() == 1 ? " (exact)"
            : " (budget in cells of " + c.dpQuantum() + ")");
    if (c.uniformBits() > 0) {
      double u = c.uniformObjective();
      String gain = u == 0 ? "" : String.format(Locale.ROOT, " (%.1f %% of |U|)",
          100 * (u - c.searchedObjective()) / Math.abs(u));
      log.printf(Locale.ROOT, "  %s: searched objective %.6g is %.6g below uniform W%d's U = "
              + "%.6g%s; --min-gain %.3g%n", c.keptUniform() ? "kept uniform W" + c.uniformBits()
              : "searched assignment", c.searchedObjective(), u - c.searchedObjective(),
          c.uniformBits(), u, gain, c.minGain());
      if (c.keptUniform()) {
        log.printf(Locale.ROOT, "  (the searched assignment was %s)%n",
            describe(c.searchedBits()));
      }
    }
  }

  /**
   * Reconstructs {@code layerBits} (empty = uniform {@code wbits}) and writes result.json with the
   * assignment, its size and BitOPs added.
   */
  static QuantizeJob.Outcome reconstruct(MixedOptions o, NumericsConfig nc,
      MixedPrecision.Prepared p,
      int wbits, Map<String, Integer> layerBits, Path out, Double knownFp, boolean quiet,
      PrintStream log) throws IOException {
    ReconConfig rc = o.reconConfig(wbits);
    QuantizeJob.Spec spec = new QuantizeJob.Spec(o.input.model, o.input.arch, o.input.data,
        o.input.dataDir, rc, o.calib, nc, o.evalLimit, out, quiet, false);
    QuantizeJob.Outcome r = TextDatasets.isKnown(o.input.data)
        ? TextQuantizeJob.run(spec, log, knownFp, layerBits)
        : QuantizeJob.run(spec, log, knownFp, layerBits);
    Map<String, Integer> bits = layerBits.isEmpty() ? p.costs().uniform(wbits) : layerBits;
    ObjectNode json = (ObjectNode) OM.readTree(r.resultFile().toFile());
    if (!layerBits.isEmpty()) {
      json.put("wbits", "mixed");
    }
    ArrayNode choices = json.putArray("wbits_choices");
    for (int b : o.choices()) {
      choices.add(b);
    }
    long size = p.costs().sizeBits(bits);
    long bitops = p.costs().bitOps(bits, o.abits);
    json.put("size_bits", size);
    json.put("size_mb", CostModel.megabytes(size));
    json.put("bitops", bitops);
    json.put("gbitops", bitops / 1e9);
    json.put("avg_wbits_searched_layers", averageBits(p.costs(), bits));
    ObjectNode a = json.putObject("assignment");
    for (LayerCost c : p.costs().layers()) {
      a.put(c.layer(), c.pinned() ? BitWidths.PINNED_BITS : bits.get(c.layer()));
    }
    json.put("sensitivity_cache", p.sensitivityFile().toString());
    OM.writeValue(r.resultFile().toFile(), json);
    return r;
  }

  static double averageBits(CostModel costs, Map<String, Integer> bits) {
    double s = 0;
    long n = 0;
    for (LayerCost c : costs.free()) {
      s += (double) c.params() * bits.get(c.layer());
      n += c.params();
    }
    return s / n;
  }

  /** Adds the search details of a mixed run to its result.json. */
  static void addSearch(Path resultFile, BitWidthSearch.Choice c, Budget b, long seed,
      String sensitivityDescription) throws IOException {
    ObjectNode json = (ObjectNode) OM.readTree(resultFile.toFile());
    ObjectNode bn = json.putObject("budget");
    bn.put("kind", b.kind().name().toLowerCase(Locale.ROOT));
    bn.put("limit", b.limit());
    bn.put("description", b.description());
    ObjectNode s = json.putObject("search");
    s.put("objective", c.objective());
    s.put("objective_diagonal", c.diagonalObjective());
    s.put("ga_generations", c.generations());
    s.put("ga_seed", seed);
    s.put("ga_config", GeneticSearch.Config.defaults().toString());
    s.put("check_ga_diagonal_only", c.gaDiagonalObjective());
    s.put("check_dp_diagonal_only", c.dpObjective());
    s.put("check_dp_quantum", c.dpQuantum());
    s.put("min_gain", c.minGain());
    s.put("sensitivity", sensitivityDescription);
    s.put("kept_uniform", c.keptUniform());
    s.put("searched_objective", c.searchedObjective());
    if (c.uniformBits() > 0) {
      s.put("best_uniform_wbits", c.uniformBits());
      s.put("best_uniform_objective", c.uniformObjective());
    }
    ObjectNode sb = s.putObject("searched_assignment");
    c.searchedBits().forEach(sb::put);
    OM.writeValue(resultFile.toFile(), json);
  }

  static String describe(Map<String, Integer> bits) {
    return Arrays.toString(bits.values().toArray());
  }
}
