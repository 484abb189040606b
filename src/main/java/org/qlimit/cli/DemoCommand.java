package org.qlimit.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.qlimit.data.TextDatasets;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.run.WeightPhase;
import org.qlimit.util.Check;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit demo}: the README's main job on the embedded default: RTN, AdaRound, BRECQ and
 * QDrop on the reference ResNet-20 (Fashion-MNIST) at W2A4 and W2A2 with a reduced budget, ending
 * in a table. With {@code --arch bert --data sst2|trec}: the same four methods on the committed
 * BERT-layout model of that set ({@code datasets/models/bert_<data>/}) at W4A8 and W4A4
 * (ALGORITHMS.md §11), accuracy on SST-2 dev or TREC test.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "RTN, AdaRound, BRECQ and QDrop on the embedded ResNet-20 at W2A4 and W2A2 "
        + "(or, with --arch bert --data sst2|trec, on the committed BERT model at W4A8 and W4A4; "
        + "reduced budget), ending in a table.")
final class DemoCommand implements Callable<Integer>, Validated {
  @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
      description = "output folder (default ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--iters", defaultValue = "100", description = "iterations per unit "
      + "(default ${DEFAULT-VALUE})")
  int iters;

  @Option(names = "--calib", defaultValue = "256", description = "calibration images "
      + "(default ${DEFAULT-VALUE})")
  int calib;

  @Option(names = "--eval-limit", defaultValue = "2000", description = "test images to evaluate "
      + "(default ${DEFAULT-VALUE}; 0 = all 10,000)")
  int evalLimit;

  @Option(names = "--arch", defaultValue = "resnet20-fmnist", description = "resnet20-fmnist "
      + "(default) or bert")
  String arch;

  @Option(names = "--data", defaultValue = "fashion-mnist", description = "fashion-mnist "
      + "(default; with resnet20-fmnist), or sst2 or trec (with bert)")
  String data;

  @Mixin Options options;

  /** The BERT demo's (weight, activation) bits: a 4-bit weight setting at A8 and at A4. */
  static final int[][] BERT_SETTINGS = {{4, 8}, {4, 4}};

  @Override
  public void validate() {
    Validated.requireCalibAndEvalLimit(calib, evalLimit);
    Validated.requireFolder("--out", out);
    ReconConfig.defaults(Method.QDROP, 2, 4, iters);
    boolean text = TextDatasets.isKnown(data);
    Check.arg(arch.equals("resnet20-fmnist") || arch.equals("bert"),
        "--arch must be resnet20-fmnist or bert for the demo, got '%s'", arch);
    Check.arg(text || data.equals("fashion-mnist"),
        "--data must be fashion-mnist, %s for the demo, got '%s'",
        String.join(" or ", TextDatasets.NAMES), data);
    Check.arg(arch.equals("bert") == text, "--arch %s does not read --data %s (the demo runs "
        + "resnet20-fmnist on fashion-mnist, bert on %s)", arch, data,
        String.join(" or ", TextDatasets.NAMES));
  }

  /** The BERT demo: four methods at {@link #BERT_SETTINGS}, accuracies read from result.json. */
  private int bert(long t0) throws Exception {
    Path model = Path.of("datasets/models/bert_" + data + "/model.safetensors");
    if (!model.toFile().isFile()) {
      throw new IllegalArgumentException("embedded model " + model + " not found; run the demo "
          + "from the repository root");
    }
    Method[] methods = {Method.RTN, Method.ADAROUND, Method.BRECQ, Method.QDROP};
    double[][] acc = new double[methods.length][BERT_SETTINGS.length];
    double fp = 0;
    String evalSet = "";
    int evalSentences = 0;
    ObjectMapper om = new ObjectMapper();
    for (int si = 0; si < BERT_SETTINGS.length; si++) {
      for (int mi = 0; mi < methods.length; mi++) {
        Method m = methods[mi];
        int w = BERT_SETTINGS[si][0];
        int a = BERT_SETTINGS[si][1];
        Path dir = out.resolve(m.cliName() + "-w" + w + "a" + a);
        System.out.printf(Locale.ROOT, "%n=== %s W%dA%d ===%n", m.cliName(), w, a);
        ReconConfig rc = ReconConfig.defaults(m, w, a, iters)
            .withIters(iters, Math.max(1, iters / 4));
        TextQuantizeJob.run(model, data, null, rc, calib, options.numerics(), evalLimit, dir);
        JsonNode r = om.readTree(dir.resolve("result.json").toFile());
        fp = r.get("fp_accuracy").asDouble();
        acc[mi][si] = r.get("accuracy").asDouble();
        evalSet = r.get("eval_set").asText();
        evalSentences = r.get("eval_sentences").asInt();
      }
    }
    System.out.printf(Locale.ROOT, "%nBERT (%s) on %s, accuracy %% on %s%d sentences of %s (%d "
            + "iters/unit except RTN, %d calibration sentences)%n", "bert_" + data, data,
        evalLimit == 0 || evalSentences < evalLimit ? "all " : "the first ", evalSentences, evalSet, iters, calib);
    System.out.printf(Locale.ROOT, "%-10s %8s %8s%n", "method", "W4A8", "W4A4");
    System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", "fp32", fp, fp);
    for (int mi = 0; mi < methods.length; mi++) {
      System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", methods[mi].cliName(), acc[mi][0],
          acc[mi][1]);
    }
    System.out.printf(Locale.ROOT, "%nfull results (result.json per run) in %s/ ; total %s%n",
        out, ProgressBar.time((System.nanoTime() - t0) / 1e9));
    return 0;
  }

  @Override
  public Integer call() throws Exception {
    if (arch.equals("bert")) {
      return bert(System.nanoTime());
    }
    Path model = Path.of("datasets/models/resnet20_fmnist.safetensors");
    if (!model.toFile().isFile()) {
      throw new IllegalArgumentException("embedded model " + model + " not found; run the demo "
          + "from the repository root");
    }
    long t0 = System.nanoTime();
    int[][] settings = {{2, 4}, {2, 2}};
    Method[] methods = {Method.RTN, Method.ADAROUND, Method.BRECQ, Method.QDROP};
    List<String> rows = new ArrayList<>();
    Double fp = null;
    int evalImages = 0;
    double[][] top1 = new double[methods.length][settings.length];
    // AdaRound's and BRECQ's weight phase does not depend on the activation bits: the W2A2 runs
    // start from the W2A4 runs' (same bits as learning it again, WeightPhase)
    WeightPhase[] weightPhase = new WeightPhase[methods.length];
    for (int si = 0; si < settings.length; si++) {
      for (int mi = 0; mi < methods.length; mi++) {
        Method m = methods[mi];
        int w = settings[si][0];
        int a = settings[si][1];
        Path dir = out.resolve(m.cliName() + "-w" + w + "a" + a);
        System.out.printf(Locale.ROOT, "%n=== %s W%dA%d ===%n", m.cliName(), w, a);
        ReconConfig rc = ReconConfig.defaults(m, w, a, iters)
            .withIters(iters, Math.max(1, iters / 4));
        QuantizeJob.Outcome o = QuantizeJob.run(new QuantizeJob.Spec(model, "resnet20-fmnist",
            "fashion-mnist", null, rc, calib, options.numerics(), evalLimit, dir, false, false),
            System.out, fp, Map.of(), weightPhase[mi]);
        fp = o.fpTop1();
        evalImages = o.evalImages();
        top1[mi][si] = o.top1();
        weightPhase[mi] = o.weightPhase();
      }
    }
    System.out.printf(Locale.ROOT, "%nResNet-20 on Fashion-MNIST, top-1 %% on %s (%d iters/unit "
        + "except RTN, %d calibration images)%n", evalLimit == 0 ? "all " + evalImages
        + " test images" : "the first " + evalImages + " test images", iters, calib);
    System.out.printf(Locale.ROOT, "%-10s %8s %8s%n", "method", "W2A4", "W2A2");
    System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", "fp32", fp, fp);
    for (int mi = 0; mi < methods.length; mi++) {
      System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", methods[mi].cliName(), top1[mi][0],
          top1[mi][1]);
    }
    System.out.printf(Locale.ROOT, "%nfull results (result.json, quantized.safetensors, "
        + "manifest.json per run) in %s/ ; total %s%n", out,
        ProgressBar.time((System.nanoTime() - t0) / 1e9));
    rows.clear();
    return 0;
  }
}
