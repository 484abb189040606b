package org.qlimit.cli;

import java.nio.file.Files;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.LabeledSentences;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.util.Check;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code qlimit eval}: FP top-1 of a checkpoint on a dataset's test split. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Evaluate the FP top-1 accuracy of a model on a test set.")
final class EvalCommand implements Callable<Integer>, Validated {
  @Mixin ModelDataOptions input;

  @Option(names = "--split", defaultValue = "test",
      description = "test or train (dev too for sst2)")
  String split;

  @Option(names = "--limit", defaultValue = "0", description = "first N images only (0 = all)")
  int limit;

  @Mixin Options options;

  @Override
  public void validate() {
    Check.arg(split.equals("test") || split.equals("train")
            || (split.equals("dev") && TextDatasets.isKnown(input.data)),
        "--split must be test or train (or dev for a text set), got '%s'", split);
    Check.arg(limit >= 0, "--limit must be >= 0 (0 = all images), got %d", limit);
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(input.model)) {
      throw new IllegalArgumentException("model file not found: " + input.model);
    }
    if (TextDatasets.isKnown(input.data)) {
      return evalText();
    }
    Model m = Architectures.load(input.arch, input.model);
    Datasets.Split d = Datasets.load(input.data, input.dataDir);
    LabeledImages set = split.equals("train") ? d.train() : d.test();
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    if (limit > set.n()) {
      System.out.printf(Locale.ROOT, "note: --limit %d exceeds the %d images of %s; evaluating "
          + "all %d%n", limit, set.n(), set.name(), set.n());
    }
    ClassCoverage coverage = ClassCoverage.check(m, set, total);
    ProgressBar bar = new ProgressBar(System.out, "eval " + input.arch, total);
    Evaluator.Accuracy acc = Evaluator.top1(m, ForwardContext.FP, Kernels.of(options.numerics()),
        set, QuantizeJob.normalization(input.data), 100, total, (done, t) -> bar.update(done, ""));
    System.out.printf(Locale.ROOT, "%s on %s (%s, %d images): FP32 top-1 %.2f %% (%d/%d)%n",
        input.arch, set.name(), split, acc.total(), acc.percent(), acc.correct(), acc.total());
    if (!coverage.complete()) {
      System.out.println("note: " + coverage.describe());
    }
    return 0;
  }

  /** A BERT checkpoint (config.json and vocab.txt beside it) on a sentence set. */
  private int evalText() throws Exception {
    Architectures.BertBundle b = Architectures.loadBert(input.model);
    TextDatasets.Split d = TextDatasets.load(input.data, input.dataDir);
    LabeledSentences set = switch (split) {
      case "train" -> d.train();
      case "dev" -> {
        if (d.dev() == null) {
          throw new IllegalArgumentException(d.dataset() + " has no dev split");
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
