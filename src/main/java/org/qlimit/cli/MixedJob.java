package org.qlimit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.mixed.BitWidthSearch;
import org.qlimit.mixed.Budget;
import org.qlimit.mixed.CostModel;
import org.qlimit.mixed.GeneticSearch;
import org.qlimit.mixed.LayerCost;
import org.qlimit.mixed.SearchProblem;
import org.qlimit.mixed.Sensitivity;
import org.qlimit.mixed.SensitivityCache;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.recon.BitWidths;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * The mixed-precision pipeline from files to results (ALGORITHMS.md §8): cost model, sensitivities
 * (cached), the search of {@link BitWidthSearch} under a budget, reconstruction of the chosen
 * assignment with {@link QuantizeJob}, result.json extended with the assignment, and a per-layer
 * bit-width picture.
 */
final class MixedJob {
  private MixedJob() {}

  static final ObjectMapper OM = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * What is loaded once per command.
   *
   * @param coverage the classes of the calibration images and of the evaluated test images
   */
  record Prepared(Model model, CostModel costs, List<Budget> budgets, Sensitivity sensitivity,
      Path sensitivityFile, List<ClassCoverage> coverage) {}

  /**
   * Loads the model, builds the cost model and the budgets (checked for feasibility before any
   * long computation), then loads or measures the sensitivities.
   */
  static Prepared prepare(MixedOptions o, NumericsConfig nc, PrintStream log,
      Function<CostModel, List<Budget>> budgetsOf) throws IOException {
    o.validate();
    if (!Files.isRegularFile(o.input.model)) {
      throw new IllegalArgumentException("model file not found: " + o.input.model);
    }
    Model model = Architectures.load(o.input.arch, o.input.model);
    Kernels k = Kernels.of(nc);
    CostModel costs = CostModel.of(model, k);
    List<Budget> budgets = budgetsOf.apply(costs);
    for (Budget b : budgets) {
      try {
        SearchProblem.checkFeasible(costs, b, o.choices()[0], o.abits);
      } catch (IllegalArgumentException e) {
        throw new UsageError((b.kind() == Budget.Kind.BITOPS ? "--bitops-budget"
            : "--size-budget-mb / --avg-wbits / --avg-wbits-list") + ": " + e.getMessage());
      }
    }
    Datasets.Split data = Datasets.load(o.input.data, o.input.dataDir);
    LabeledImages train = data.train();
    if (o.calib > train.n()) {
      throw new UsageError("--calib " + o.calib + " exceeds the " + train.n()
          + " training images of " + train.name() + "; lower --calib");
    }
    // labels beyond the model's classes would break the Fisher weights: stop before measuring
    List<ClassCoverage> coverage = List.of(ClassCoverage.check(model, train, o.calib),
        ClassCoverage.check(model, data.test(), o.evalLimit));
    int[] idx = CalibrationSampler.firstN(train, o.calib);
    Tensor calib = Evaluator.batch(train, Datasets.normalization(o.input.data), idx);
    int[] labels = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      labels[i] = train.labels()[idx[i]];
    }
    // the reconstruction's memory, stated before the sensitivity measurement starts (the
    // reconstruction run prints it again with its decision on mapped caches)
    MemoryEstimate mem = MemoryEstimate.of(model, o.reconConfig(o.choices()[0]), o.calib,
        (long) train.pixels().length + data.test().pixels().length
            + (long) calib.numel() * Float.BYTES, k);
    log.printf(Locale.ROOT, "  memory: reconstruction estimate %s; heap %s%n", mem.describe(),
        MemoryEstimate.bytes(Runtime.getRuntime().maxMemory()));
    Method m = o.parsedMethod();
    int[] bits = o.choices();
    Sensitivity.Options so = o.sensitivityOptions();
    String key = SensitivityCache.key(Hashing.sha256(o.input.model), o.input.arch, m, bits, so,
        calib, labels);
    Path file = SensitivityCache.file(o.cacheDir, key);
    Optional<Sensitivity> cached = SensitivityCache.load(file, key);
    Sensitivity s;
    if (cached.isPresent()) {
      s = cached.get();
      log.println("  sensitivities: cached " + file);
    } else {
      long t0 = System.nanoTime();
      log.printf(Locale.ROOT, "  sensitivities: measuring %d layers x %d widths + intra-block "
          + "pairs on %d images (%s) ...%n", costs.free().size(), bits.length, o.calib,
          so.describe());
      s = Sensitivity.measure(model, m, bits, so, calib, labels, nc);
      SensitivityCache.save(file, key, s);
      log.printf(Locale.ROOT, "  sensitivities: done in %s, cached %s%n",
          ProgressBar.time((System.nanoTime() - t0) / 1e9), file);
    }
    return new Prepared(model, costs, budgets, s, file, coverage);
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

  static void printChoice(PrintStream log, Prepared p, BitWidthSearch.Choice c, Budget b) {
    log.printf(Locale.ROOT, "  budget: %s%n", b.description());
    log.printf(Locale.ROOT, "  %-24s %8s %12s %5s%n", "layer", "params", "MACs", "bits");
    for (LayerCost l : p.costs().layers()) {
      log.printf(Locale.ROOT, "  %-24s %8d %12d %5d%s%n", l.layer(), l.params(), l.macs(),
          c.allBits().get(l.layer()), l.pinned() ? "  (pinned, §5)" : "");
    }
    log.printf(Locale.ROOT, "  size %.4f MB (%d bits), %.4f GBitOPs/image; objective %.6g "
            + "(diagonal %.6g); GA %d generations%n", CostModel.megabytes(c.sizeBits()),
        c.sizeBits(), c.bitOps() / 1e9, c.objective(), c.diagonalObjective(), c.generations());
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
  static QuantizeJob.Outcome reconstruct(MixedOptions o, NumericsConfig nc, Prepared p,
      int wbits, Map<String, Integer> layerBits, Path out, Double knownFp, boolean quiet,
      PrintStream log) throws IOException {
    ReconConfig rc = o.reconConfig(wbits);
    QuantizeJob.Outcome r = QuantizeJob.run(new QuantizeJob.Spec(o.input.model, o.input.arch,
        o.input.data, o.input.dataDir, rc, o.calib, nc, o.evalLimit, out, quiet, false), log,
        knownFp, layerBits);
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
