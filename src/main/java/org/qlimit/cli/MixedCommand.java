package org.qlimit.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.qlimit.mixed.BitWidthSearch;
import org.qlimit.mixed.Budget;
import org.qlimit.mixed.LayerCost;
import org.qlimit.run.MixedPrecision;
import org.qlimit.run.QuantizationRun;
import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit mixed}: per-layer weight bit widths under a budget (ALGORITHMS.md §8), then
 * reconstruction and evaluation of that assignment.
 */
@Command(name = "mixed", mixinStandardHelpOptions = true,
    description = {"Mixed precision: measure layer sensitivities (cached), search per-layer weight "
        + "bit widths under a size or BitOPs budget with a seeded genetic algorithm, then "
        + "reconstruct (brecq or qdrop) and evaluate.",
        "Writes result.json (as quantize, plus the assignment, its size and BitOPs) and bits.png "
        + "(per-layer widths) to --out. First and last layers stay at 8 bits."})
final class MixedCommand implements Callable<Integer>, Validated {
  @Mixin
  MixedOptions mo;

  @Option(names = "--size-budget-mb", paramLabel = "MB",
      description = "weight size at most MB megabytes (10^6 bytes), first/last layers at 8 bits")
  Double sizeMb;

  @Option(names = "--avg-wbits", paramLabel = "BITS",
      description = "size at most that of uniform BITS-bit searched layers (fractions allowed)")
  Double avgWbits;

  @Option(names = "--bitops-budget", paramLabel = "G",
      description = "BitOPs per image at most G·10^9 (MACs · weight bits · activation bits)")
  Double bitopsG;

  @Mixin
  Options options;

  @Override
  public void validate() {
    int given = (sizeMb != null ? 1 : 0) + (avgWbits != null ? 1 : 0) + (bitopsG != null ? 1 : 0);
    if (given != 1) {
      throw new IllegalArgumentException("give exactly one of --size-budget-mb, --avg-wbits, "
          + "--bitops-budget");
    }
    if (sizeMb != null) {
      Budget.sizeMegabytes(sizeMb);
    } else if (bitopsG != null) {
      Budget.bitOpsGiga(bitopsG);
    } else {
      mo.checkAverageBits("--avg-wbits", avgWbits);
    }
  }

  @Override
  public Integer call() throws Exception {
    NumericsConfig nc = options.numerics();
    System.out.printf(Locale.ROOT, "qlimit mixed: %s %s on %s, widths %s, A%d, %s, "
            + "%d calibration %s, seed %d%n", mo.method, mo.input.arch, mo.input.data,
        mo.wbitsChoices, mo.abits, QuantizationRun.iterations(mo.reconConfig(mo.choices()[0])),
        mo.calib, mo.calibrationItems(), mo.seed);
    MixedPrecision.Prepared p = MixedJob.prepare(mo, nc, System.out,
        costs -> List.of(MixedJob.budget(sizeMb, avgWbits, bitopsG, costs)));
    Budget b = p.budgets().get(0);
    BitWidthSearch.Choice c = BitWidthSearch.choose(p.costs(), p.sensitivity(), b, mo.abits,
        mo.seed, mo.minGain);
    MixedJob.printChoice(System.out, p, c, b);
    Files.createDirectories(mo.out);
    QuantizeJob.Outcome r = MixedJob.reconstruct(mo, nc, p, mo.choices()[mo.choices().length - 1],
        c.bits(), mo.out, null, false, System.out);
    MixedJob.addSearch(r.resultFile(), c, b, mo.seed, mo.sensitivityOptions().describe());
    List<String> layers = p.costs().layers().stream().map(LayerCost::layer).toList();
    Map<String, Map<String, Integer>> series = new LinkedHashMap<>();
    series.put(String.format(Locale.ROOT, "mixed %.3f MB, top-1 %.2f %%",
        c.sizeBits() / 8e6, r.top1()), c.allBits());
    Path png = mo.out.resolve("bits.png");
    MixedPlots.write(png, 1000, 560, MixedPlots.bitsChart(mo.input.arch
        + ": per-layer weight bits (" + b.description() + ")", layers, series));
    System.out.printf(Locale.ROOT, "wrote %s%n", png);
    return 0;
  }
}
