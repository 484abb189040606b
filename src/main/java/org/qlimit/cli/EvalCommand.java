package org.qlimit.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.LabeledSentences;
import org.qlimit.data.Normalization;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.eval.Evaluator;
import org.qlimit.integer.Departures;
import org.qlimit.integer.IntegerEval;
import org.qlimit.integer.IntegerNetwork;
import org.qlimit.kernel.IntKernels;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit eval}: FP top-1 of a checkpoint on a dataset's test split, or, with
 * {@code --integer RUN_DIR}, the integer reference path of a quantized run (docs/INTEGER.md)
 * beside its fake-quantized path: both top-1s and, per activation site, where they depart.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluate the FP top-1 accuracy of a model on a test set (--model, --arch, "
        + "--data), or run a quantized model in integer arithmetic (--integer RUN_DIR) and "
        + "compare it, site by site, with its fake-quantized forward pass."})
final class EvalCommand implements Callable<Integer>, Validated {
  @Option(names = "--model", paramLabel = "FILE", description = "safetensors checkpoint with "
      + "PyTorch parameter names (required without --integer; with it, overrides the model file "
      + "named by RUN_DIR/manifest.json)")
  Path model;

  @Option(names = "--arch", description = "architecture (see 'qlimit archs'); required without "
      + "--integer")
  String arch;

  @Option(names = "--data", description = "fashion-mnist, cifar10 or imagefolder; required "
      + "without --integer")
  String data;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "dataset folder (default for fashion-mnist: the embedded copy in datasets/; "
          + "with --integer: the folder the run used)")
  Path dataDir;

  @Option(names = "--integer", paramLabel = "RUN_DIR", description = "the --out folder of "
      + "'qlimit quantize': run its quantized model on the integer reference path "
      + "(docs/INTEGER.md) and report where it departs from the fake-quantized path")
  Path integer;

  @Option(names = "--split", defaultValue = "test",
      description = "test or train (dev too for sst2)")
  String split;

  @Option(names = "--limit", defaultValue = "0", description = "first N images only (0 = all)")
  int limit;

  @Mixin Options options;

  @Override
  public void validate() {
    Check.arg(split.equals("test") || split.equals("train")
            || (split.equals("dev") && TextDatasets.isKnown(data)),
        "--split must be test or train (or dev for a text set), got '%s'", split);
    Check.arg(limit >= 0, "--limit must be >= 0 (0 = all images), got %d", limit);
    if (integer != null) {
      Check.arg(arch == null && data == null, "--integer reads the architecture and the dataset "
          + "from RUN_DIR/manifest.json; drop %s", arch != null ? "--arch" : "--data");
      return;
    }
    List<String> missing = new ArrayList<>();
    for (String[] o : new String[][] {{"--model", model == null ? null : "x"}, {"--arch", arch},
        {"--data", data}}) {
      if (o[1] == null) {
        missing.add("'" + o[0] + "'");
      }
    }
    Check.arg(missing.isEmpty(), "Missing required option%s: %s (or --integer RUN_DIR)",
        missing.size() > 1 ? "s" : "", String.join(", ", missing));
    ArchDataOptions ad = new ArchDataOptions();
    ad.arch = arch;
    ad.data = data;
    ad.validate();
  }

  @Override
  public Integer call() throws Exception {
    return integer != null ? callInteger(System.out) : callFp();
  }

  private int callFp() throws Exception {
    if (!Files.isRegularFile(model)) {
      throw new IllegalArgumentException("model file not found: " + model);
    }
    if (TextDatasets.isKnown(data)) {
      return evalText();
    }
    Model m = Architectures.load(arch, model);
    Datasets.Split d = Datasets.load(data, dataDir);
    LabeledImages set = split.equals("train") ? d.train() : d.test();
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    if (limit > set.n()) {
      System.out.printf(Locale.ROOT, "note: --limit %d exceeds the %d images of %s; evaluating "
          + "all %d%n", limit, set.n(), set.name(), set.n());
    }
    ClassCoverage coverage = ClassCoverage.check(m, set, total);
    ProgressBar bar = new ProgressBar(System.out, "eval " + arch, total);
    Evaluator.Accuracy acc = Evaluator.top1(m, ForwardContext.FP, Kernels.of(options.numerics()),
        set, Datasets.normalization(data), 100, total, (done, t) -> bar.update(done, ""));
    System.out.printf(Locale.ROOT, "%s on %s (%s, %d images): FP32 top-1 %.2f %% (%d/%d)%n",
        arch, set.name(), split, acc.total(), acc.percent(), acc.correct(), acc.total());
    if (!coverage.complete()) {
      System.out.println("note: " + coverage.describe());
    }
    return 0;
  }

  private int callInteger(PrintStream out) throws Exception {
    long t0 = System.nanoTime();
    QuantizedRunDir run = QuantizedRunDir.read(integer, model, dataDir);
    run.requireImageClassifier("the integer reference path");
    QuantState state = run.load();
    Normalization norm = Datasets.normalization(run.dataset());
    IntegerNetwork net = IntegerNetwork.compile(state, IntegerNetwork.inputParams(norm));
    Datasets.Split d = Datasets.load(run.dataset(), run.dataDir());
    LabeledImages set = split.equals("train") ? d.train() : d.test();
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    NumericsConfig nc = options.numerics();
    out.printf(Locale.ROOT, "qlimit eval --integer: %s %s (%s), %s %s, %d images, %d thread(s), "
            + "%s%n", run.arch(), run.label(), run.dir(), set.name(), split, total, nc.threads(),
        nc.vectorBits() == 0 ? "scalar" : nc.vectorBits() + "-bit vectors");
    if (limit > set.n()) {
      out.printf(Locale.ROOT, "note: --limit %d exceeds the %d images of %s; evaluating all %d%n",
          limit, set.n(), set.name(), set.n());
    }
    ProgressBar bar = new ProgressBar(out, "integer + fake-quant", total);
    IntegerEval.Result r = IntegerEval.compare(net, state, IntKernels.of(nc), Kernels.of(nc), set,
        norm, total, 50, (done, t) -> bar.update(done, ""));
    printDepartures(out, r, net);
    out.printf(Locale.ROOT, "(%s)%n", ProgressBar.time((System.nanoTime() - t0) / 1e9));
    return 0;
  }

  static void printDepartures(PrintStream out, IntegerEval.Result r, IntegerNetwork net) {
    Departures d = r.endToEnd();
    long n = d.images();
    out.printf(Locale.ROOT, "integer top-1 %.2f %% (%d/%d); fake-quantized top-1 %.2f %% (%d/%d); "
            + "same prediction on %d/%d images; max |Δ logit| %.4g%n",
        pct(d.integerCorrect(), n), d.integerCorrect(), n, pct(d.fakeQuantCorrect(), n),
        d.fakeQuantCorrect(), n, d.sameArgmax(), n, d.maxLogitDiff());
    out.printf(Locale.ROOT, "input image quantized at 8 bits: step %.6g, zero point %d%n",
        net.input().scale(0), (int) net.input().zeroPoint(0));
    out.println("departures from the fake-quantized path per activation site, in levels (steps):");
    out.println("  per unit: each unit run in integers from the fake-quantized input of that unit;");
    out.println("  end to end: both paths from the same image (a site carries earlier departures)");
    int w = 4;
    for (Departures.Site s : d.sites()) {
      w = Math.max(w, s.site().length());
    }
    String fmt = "%-" + w + "s  %4s  %10s  %9s  %8s  %8s  %8s  %6s  %10s  %6s%n";
    out.printf(Locale.ROOT, fmt, "", "", "", "per unit", "", "", "", "", "end to end", "");
    out.printf(Locale.ROOT, fmt, "site", "bits", "elements", "differ", "%", "|Δ|=1", "|Δ|>=2",
        "max|Δ|", "%", "max|Δ|");
    List<Departures.Site> local = r.perUnit().sites();
    List<Departures.Site> e2e = d.sites();
    for (int i = 0; i < e2e.size(); i++) {
      Departures.Site l = local.get(i);
      Departures.Site e = e2e.get(i);
      out.printf(Locale.ROOT, fmt, e.site(), e.bits(), e.elements(), l.differ(),
          String.format(Locale.ROOT, "%.3f", l.percentDiffer()), l.steps1(),
          l.steps2() + l.steps3up(), l.maxSteps(),
          String.format(Locale.ROOT, "%.3f", e.percentDiffer()), e.maxSteps());
    }
    Departures p = r.perUnit();
    out.printf(Locale.ROOT, "per unit, the head on the fake-quantized features: same prediction on "
        + "%d/%d images, max |Δ logit| %.4g%n", p.sameArgmax(), p.images(), p.maxLogitDiff());
    String first = d.firstDepartingSite();
    out.println(first == null ? "the integer path equals the fake-quantized path at every site"
        : "first departing site: " + first);
  }

  private static double pct(long a, long n) {
    return n == 0 ? 0 : 100.0 * a / n;
  }

  /** A BERT checkpoint (config.json and vocab.txt beside it) on a sentence set. */
  private int evalText() throws Exception {
    Architectures.BertBundle b = Architectures.loadBert(model);
    TextDatasets.Split d = TextDatasets.load(data, dataDir);
    LabeledSentences set = switch (split) {
      case "train" -> d.train();
      case "dev" -> {
        if (d.dev() == null) {
          throw new UsageError("--split dev: " + d.dataset() + " has no dev split (it has train "
              + "and test)");
        }
        yield d.dev();
      }
      default -> d.test();
    };
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    TokenizedSentences tok = TokenizedSentences.encode(set.subset(0, total), b.tokenizer(),
        b.config().maxPositions());
    ProgressBar bar = new ProgressBar(System.out, "eval bert", total);
    Evaluator.Accuracy acc = org.qlimit.eval.TextEvaluator.accuracy(b.model(), ForwardContext.FP,
        Kernels.of(options.numerics()), tok, 64, total, (done, t) -> bar.update(done, ""));
    System.out.printf(Locale.ROOT, "bert on %s (%s, %d sentences): FP32 accuracy %.2f %% (%d/%d)%n",
        set.name(), split, acc.total(), acc.percent(), acc.correct(), acc.total());
    return 0;
  }
}
