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
import org.qlimit.data.LabeledSentences;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
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
 * A BERT-layout encoder on a text set (arch bert, data sst2 or trec; ALGORITHMS.md §8 and §11)
 * is prepared the same way from its calibration sentences, with the cost model measured on a
 * sentence of max_position_embeddings tokens.
 */
public final class MixedPrecision {
  private MixedPrecision() {}

  /**
   * The inputs of the preparation.
   *
   * @param method brecq or qdrop (also selects the weight observer of the sensitivities)
   * @param choices candidate weight widths, ascending, in 2..8
   * @param abits activation bits of the runs (2..8, 32 = FP), used by the feasibility check
   * @param dataset an image set, or a text set (sst2, trec) for arch bert (ALGORITHMS.md §11)
   * @param calib calibration images (or sentences): the first N of the training split
   * @param evalLimit test images (or evaluation sentences) to evaluate (0 = all), checked for
   *     class coverage
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
   * @param coverage the classes of the calibration images (sentences) and of the evaluated ones
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
    boolean text = TextDatasets.isKnown(o.dataset());
    if (text != o.arch().equals("bert")) {
      throw new IllegalArgumentException("arch " + o.arch() + " does not read data "
          + o.dataset() + " (the text sets " + String.join(", ", TextDatasets.NAMES)
          + " go with arch bert)");
    }
    Architectures.BertBundle bert = text ? Architectures.loadBert(o.modelFile()) : null;
    Model model = text ? bert.model() : Architectures.load(o.arch(), o.modelFile());
    Kernels k = Kernels.of(nc);
    CostModel costs = text ? CostModel.of(model, k, sentenceProbe(bert))
        : CostModel.of(model, k);
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
    Calibration cal = text ? sentences(o, bert) : images(o, model, k, listener);
    Tensor calib = cal.inputs();
    int[] labels = cal.labels();
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
          + "widths + intra-block pairs on %d %s (%s) ...", costs.free().size(), bits.length,
          o.calib(), text ? "sentences" : "images", so.describe()));
      s = Sensitivity.measure(model, o.method(), bits, so, calib, labels, nc);
      SensitivityCache.save(file, key, s);
      listener.note(String.format(Locale.ROOT, "  sensitivities: done in %s, cached %s",
          RunListener.duration((System.nanoTime() - t0) / 1e9), file));
    }
    return new Prepared(model, costs, budgets, s, file, cal.coverage());
  }

  /** The calibration inputs, their labels and the class coverage of calibration and test. */
  private record Calibration(Tensor inputs, int[] labels, List<ClassCoverage> coverage) {}

  /** The first N training images, normalised; the reconstruction's memory estimate told. */
  private static Calibration images(Settings o, Model model, Kernels k, RunListener listener)
      throws IOException {
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
    return new Calibration(calib, labels, coverage);
  }

  /**
   * The first N training sentences as token ids (N, L), padded with [PAD] to the longest of
   * them, as {@code quantize --arch bert} calibrates (ALGORITHMS.md §11).
   */
  private static Calibration sentences(Settings o, Architectures.BertBundle bert)
      throws IOException {
    TextDatasets.Split split = TextDatasets.load(o.dataset(), o.dataDir());
    LabeledSentences train = split.train();
    if (o.calib() > train.n()) {
      throw new QuantizationRun.InputMismatch("--calib " + o.calib() + " exceeds the "
          + train.n() + " training sentences of " + train.name() + "; lower --calib");
    }
    Model model = bert.model();
    LabeledSentences eval = split.eval();
    List<ClassCoverage> coverage = List.of(
        ClassCoverage.check(model, train.name(), train.labels(), train.numClasses(), o.calib(),
            "sentence"),
        ClassCoverage.check(model, eval.name(), eval.labels(), eval.numClasses(), o.evalLimit(),
            "sentence"));
    TokenizedSentences cal = TokenizedSentences.encode(train.subset(0, o.calib()),
        bert.tokenizer(), bert.config().maxPositions());
    return new Calibration(cal.batch(0, o.calib()), cal.labels().clone(), coverage);
  }

  /**
   * The input the cost model measures a BERT-layout encoder on: one sentence of
   * max_position_embeddings tokens, none of them [PAD] (ALGORITHMS.md §8: the BitOPs of a
   * sentence of the longest length the model takes).
   */
  static Tensor sentenceProbe(Architectures.BertBundle bert) {
    int pad = bert.config().padTokenId();
    return Tensor.full(pad == 0 ? 1 : 0, 1, bert.config().maxPositions());
  }
}
