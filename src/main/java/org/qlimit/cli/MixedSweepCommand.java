package org.qlimit.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.mixed.BitWidthSearch;
import org.qlimit.mixed.Budget;
import org.qlimit.mixed.CostModel;
import org.qlimit.mixed.LayerCost;
import org.qlimit.run.MixedPrecision;
import org.qlimit.run.QuantizationRun;
import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit mixed-sweep}: uniform runs and mixed-precision runs at several size budgets, one
 * sub-folder each, and a picture of accuracy against size with the mixed per-layer widths.
 */
@Command(name = "mixed-sweep", mixinStandardHelpOptions = true,
    description = {"Runs uniform weight widths (--uniform) and mixed precision at average-bit "
        + "budgets (--avg-wbits-list), each into its own folder under --out (uniform-wN, "
        + "mixed-avgX), then writes sweep.json and sweep.png: top-1 against weight size, and the "
        + "per-layer widths of every mixed run."})
final class MixedSweepCommand implements Callable<Integer>, Validated {
  @Mixin
  MixedOptions mo;

  @Option(names = "--uniform", defaultValue = "2,3,4", split = ",",
      description = "uniform weight widths to run (default ${DEFAULT-VALUE})")
  List<Integer> uniform;

  @Option(names = "--avg-wbits-list", defaultValue = "2.5,3,3.5", split = ",",
      description = "mixed budgets as average weight bits of the searched layers "
          + "(default ${DEFAULT-VALUE})")
  List<Double> avgList;

  @Mixin
  Options options;

  @Override
  public void validate() {
    if (uniform.isEmpty() && avgList.isEmpty()) {
      throw new IllegalArgumentException("--uniform and --avg-wbits-list are both empty: nothing "
          + "to run");
    }
    for (int w : uniform) {
      if (w < 2 || w > 8) {
        throw new IllegalArgumentException("--uniform: widths must be in 2..8, got " + w);
      }
    }
    for (double a : avgList) {
      mo.checkAverageBits("--avg-wbits-list", a);
    }
  }

  @Override
  public Integer call() throws Exception {
    NumericsConfig nc = options.numerics();
    System.out.printf(Locale.ROOT, "qlimit mixed-sweep: %s %s on %s, uniform %s, mixed budgets "
            + "(avg bits) %s, widths %s, A%d, %s%n", mo.method, mo.input.arch,
        mo.input.data, uniform, avgList, mo.wbitsChoices, mo.abits,
        QuantizationRun.iterations(mo.reconConfig(mo.choices()[0])));
    MixedPrecision.Prepared p = MixedJob.prepare(mo, nc, System.out, costs -> avgList.stream()
        .map(a -> Budget.averageWeightBits(a, costs)).toList());
    for (ClassCoverage c : p.coverage()) {
      if (!c.complete()) {
        System.out.println("note: " + c.describe());
      }
    }
    // search everything first, so that a problem shows before any long run
    List<Budget> budgets = p.budgets();
    List<BitWidthSearch.Choice> choices = new ArrayList<>();
    for (Budget b : budgets) {
      choices.add(BitWidthSearch.choose(p.costs(), p.sensitivity(), b, mo.abits, mo.seed,
          mo.minGain));
    }
    Files.createDirectories(mo.out);
    List<MixedPlots.Point> uPts = new ArrayList<>();
    List<MixedPlots.Point> mPts = new ArrayList<>();
    Map<String, Map<String, Integer>> series = new LinkedHashMap<>();
    ObjectNode sweep = MixedJob.OM.createObjectNode();
    ArrayNode runs = sweep.putArray("runs");
    Double fp = null;
    Map<Integer, QuantizeJob.Outcome> uniformRuns = new LinkedHashMap<>();
    for (int w : uniform) {
      Path dir = mo.out.resolve("uniform-w" + w);
      System.out.printf(Locale.ROOT, "%n== uniform W%d -> %s%n", w, dir);
      QuantizeJob.Outcome r = MixedJob.reconstruct(mo, nc, p, w, Map.of(), dir, fp, true,
          System.out);
      uniformRuns.put(w, r);
      fp = r.fpTop1();
      long size = p.costs().sizeBits(p.costs().uniform(w));
      uPts.add(new MixedPlots.Point("W" + w, CostModel.megabytes(size), r.top1()));
      runs.add(row("uniform", "W" + w, size, p.costs().bitOps(p.costs().uniform(w), mo.abits),
          r, dir));
      System.out.printf(Locale.ROOT, "   top-1 %.2f %%, %.4f MB%n", r.top1(),
          CostModel.megabytes(size));
    }
    for (int i = 0; i < budgets.size(); i++) {
      BitWidthSearch.Choice c = choices.get(i);
      String label = String.format(Locale.ROOT, "avg%s", trim(avgList.get(i)));
      Path dir = mo.out.resolve("mixed-" + label);
      System.out.printf(Locale.ROOT, "%n== mixed %s -> %s%n", budgets.get(i).description(), dir);
      MixedJob.printChoice(System.out, p, c, budgets.get(i));
      QuantizeJob.Outcome same = c.keptUniform() ? uniformRuns.get(c.uniformBits()) : null;
      QuantizeJob.Outcome r;
      if (same != null) {
        // The uniform run above is this very run (same widths, seed and settings): reuse it.
        r = reuse(same, dir, "uniform-w" + c.uniformBits());
        System.out.printf(Locale.ROOT, "   same assignment as uniform W%d: its run is reused%n",
            c.uniformBits());
      } else {
        r = MixedJob.reconstruct(mo, nc, p, mo.choices()[mo.choices().length - 1], c.bits(), dir,
            fp, true, System.out);
      }
      fp = r.fpTop1();
      MixedJob.addSearch(r.resultFile(), c, budgets.get(i), mo.seed,
          mo.sensitivityOptions().describe());
      mPts.add(new MixedPlots.Point(label, CostModel.megabytes(c.sizeBits()), r.top1()));
      series.put(String.format(Locale.ROOT, "%s (%.2f %%)", label, r.top1()), c.allBits());
      runs.add(row("mixed", label, c.sizeBits(), c.bitOps(), r, dir));
      System.out.printf(Locale.ROOT, "   top-1 %.2f %%, %.4f MB%n", r.top1(),
          CostModel.megabytes(c.sizeBits()));
    }
    sweep.put("fp_top1", fp);
    sweep.put("min_gain", mo.minGain);
    sweep.put("sensitivity", mo.sensitivityOptions().describe());
    Path json = mo.out.resolve("sweep.json");
    MixedJob.OM.writeValue(json.toFile(), sweep);
    List<String> layers = p.costs().layers().stream().map(LayerCost::layer).toList();
    Path png = mo.out.resolve("sweep.png");
    MixedPlots.write(png, 900, 620,
        MixedPlots.accuracyChart(String.format(Locale.ROOT, "%s %s A%d: top-1 vs weight size "
            + "(FP %.2f %%)", mo.input.arch, mo.method, mo.abits, fp), uPts, mPts),
        MixedPlots.bitsChart("mixed precision: per-layer weight bits", layers, series));
    System.out.printf(Locale.ROOT, "%nwrote %s, %s%n", json, png);
    return 0;
  }

  /** Copies a finished run's files into {@code dir}, noting where they came from. */
  private static QuantizeJob.Outcome reuse(QuantizeJob.Outcome from, Path dir, String label)
      throws IOException {
    Files.createDirectories(dir);
    Path src = from.resultFile().getParent();
    try (Stream<Path> files = Files.list(src)) {
      for (Path f : files.sorted().toList()) {
        if (Files.isRegularFile(f)) {
          Files.copy(f, dir.resolve(f.getFileName()),
              StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    Path result = dir.resolve("result.json");
    ObjectNode json = (ObjectNode) MixedJob.OM.readTree(result.toFile());
    json.put("reused_run", label);
    MixedJob.OM.writeValue(result.toFile(), json);
    return new QuantizeJob.Outcome(from.fpTop1(), from.top1(), from.seconds(), from.sha256(),
        result, from.evalImages(), from.weightPhase());
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? Integer.toString((int) v) : Double.toString(v);
  }

  private static ObjectNode row(String kind, String label, long sizeBits, long bitOps,
      QuantizeJob.Outcome r, Path dir) {
    ObjectNode n = MixedJob.OM.createObjectNode();
    n.put("kind", kind);
    n.put("label", label);
    n.put("size_mb", CostModel.megabytes(sizeBits));
    n.put("gbitops", bitOps / 1e9);
    n.put("top1", Math.round(r.top1() * 100) / 100.0);
    n.put("result", dir.resolve("result.json").toString());
    return n;
  }
}
