package org.qlimit.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
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
import org.qlimit.mixed.SearchProblem;
import org.qlimit.mixed.Sensitivity;
import org.qlimit.mixed.SensitivityCache;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * What a mixed-precision run (ALGORITHMS.md §8) needs before its search, the library behind
 * {@code qlimit mixed} and {@code mixed-sweep}: the model, its cost model, the budgets (checked
 * for feasibility before any long computation) and the sensitivities, loaded from the cache
 * folder or measured and cached. Then {@link BitWidthSearch#choose} picks the widths, and a
 * {@link QuantizationRun} with {@link QuantizationRun.Builder#layerBits} reconstructs them.
 */
public final class MixedPrecision {
  private MixedPrecision() {}

  /**
   * The inputs of the preparation.
   *
   * @param method brecq or qdrop (also selects the weight observer of the sensitivities)
   * @param choices candidate weight widths, ascending, in 2..8
   * @param abits activation bits of the runs (2..8, 32 = FP), used by the feasibility check
   * @param calib calibration images: the first N training images
   * @param evalLimit test images to evaluate (0 = all), checked for class coverage
   * @param sensitivity how the sensitivities are measured
   * @param recon the reconstruction settings at the smallest width (for the memory estimate)
   * @param cacheDir folder of the sensitivity cache
   */
  public record Settings(Path modelFile, String arch, String dataset, Path dataDir, Method method,
      int[] choices, int abits, int calib, int evalLimit, Sensitivity.Options sensitivity,
      ReconConfig recon, Path cacheDir) {}

  /**
   * What is loaded once per mixed-precision command.
   *
   * @param coverage the classes of the calibration images and of the evaluated test images
   */
  public record Prepared(Model model, CostModel costs, List<Budget> budgets,
      Sensitivity sensitivity, Path sensitivityFile, List<ClassCoverage> coverage) {}

  /**
   * Loads the model, builds the cost model and the budgets ({@code budgetsOf}), checks that each
   * budget can be met, then loads or measures the sensitivities; {@code listener} is told the
   * memory estimate and where the sensitivities came from.
   *
   * @throws QuantizationRun.InputMismatch for a budget the model cannot meet or more
   *     calibration images than training images
   * @throws IllegalArgumentException for a missing model file or labels beyond the model's
   *     classes
   */
  public static Prepared prepare(Settings o, NumericsConfig nc,
      Function<CostModel, List<Budget>> budgetsOf, RunListener listener) throws IOException {
    if (!Files.isRegularFile(o.modelFile())) {
      throw new IllegalArgumentException("model file not found: " + o.modelFile());
    }
    Model model = Architectures.load(o.arch(), o.modelFile());
    Kernels k = Kernels.of(nc);
    CostModel costs = CostModel.of(model, k);
    List<Budget> budgets = budgetsOf.apply(costs);
    for (Budget b : budgets) {
      try {
        SearchProblem.checkFeasible(costs, b, o.choices()[0], o.abits());
      } catch (IllegalArgumentException e) {
        throw new QuantizationRun.InputMismatch((b.kind() == Budget.Kind.BITOPS
            ? "--bitops-budget" : "--size-budget-mb / --avg-wbits / --avg-wbits-list") + ": "
            + e.getMessage());
      }
    }
    Datasets.Split data = Datasets.load(o.dataset(), o.dataDir());
    LabeledImages train = data.train();
    if (o.calib() > train.n()) {
      throw new QuantizationRun.InputMismatch("--calib " + o.calib() + " exceeds the "
          + train.n() + " training images of " + train.name() + "; lower --calib");
    }
    // labels beyond the model's classes would break the Fisher weights: stop before measuring
    List<ClassCoverage> coverage = List.of(ClassCoverage.check(model, train, o.calib()),
        ClassCoverage.check(model, data.test(), o.evalLimit()));
    int[] idx = CalibrationSampler.firstN(train, o.calib());
    Tensor calib = Evaluator.batch(train, data.normalization(), idx);
    int[] labels = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      labels[i] = train.labels()[idx[i]];
    }
    // the reconstruction's memory, stated before the sensitivity measurement starts (the
    // reconstruction run states it again with its decision on mapped caches)
    MemoryEstimate mem = MemoryEstimate.of(model, o.recon(), o.calib(),
        (long) train.pixels().length + data.test().pixels().length
            + (long) calib.numel() * Float.BYTES, k);
    listener.note(String.format(Locale.ROOT, "  memory: reconstruction estimate %s; heap %s",
        mem.describe(), MemoryEstimate.bytes(Runtime.getRuntime().maxMemory())));
    int[] bits = o.choices();
    Sensitivity.Options so = o.sensitivity();
    String key = SensitivityCache.key(Hashing.sha256(o.modelFile()), o.arch(), o.method(), bits,
        so, calib, labels);
    Path file = SensitivityCache.file(o.cacheDir(), key);
    Optional<Sensitivity> cached = SensitivityCache.load(file, key);
    Sensitivity s;
    if (cached.isPresent()) {
      s = cached.get();
      listener.note("  sensitivities: cached " + file);
    } else {
      long t0 = System.nanoTime();
      listener.note(String.format(Locale.ROOT, "  sensitivities: measuring %d layers x %d "
          + "widths + intra-block pairs on %d images (%s) ...", costs.free().size(), bits.length,
          o.calib(), so.describe()));
      s = Sensitivity.measure(model, o.method(), bits, so, calib, labels, nc);
      SensitivityCache.save(file, key, s);
      listener.note(String.format(Locale.ROOT, "  sensitivities: done in %s, cached %s",
          RunListener.duration((System.nanoTime() - t0) / 1e9), file));
    }
    return new Prepared(model, costs, budgets, s, file, coverage);
  }
}
