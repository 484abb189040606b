package org.qlimit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.qlimit.data.Datasets;
import org.qlimit.data.Normalization;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.model.Architectures;
import org.qlimit.model.Checkpoints;
import org.qlimit.train.TextTrainConfig;
import org.qlimit.train.TrainConfig;
import org.qlimit.train.Trainer;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit train}: trains an architecture from scratch (see {@link Trainer} for the recipe)
 * and writes a safetensors checkpoint with PyTorch names plus a JSON history next to it.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Train a model from scratch (images: SGD, cosine learning rate per iteration, "
        + "pad-and-crop + flip augmentation; --arch bert on sst2/trec: AdamW, linear warm-up and "
        + "decay) and write a safetensors checkpoint (for bert also config.json and vocab.txt).")
final class TrainCommand implements Callable<Integer>, Validated {
  @Mixin ArchDataOptions input;

  @Option(names = "--epochs", required = true, paramLabel = "N") int epochs;

  @Option(names = "--batch", defaultValue = "128", paramLabel = "N") int batch;

  @Option(names = "--lr", defaultValue = "0.1", description = "initial learning rate; cosine "
      + "decay to 0 per iteration") float lr;

  @Option(names = "--momentum", defaultValue = "0.9") float momentum;

  @Option(names = "--nesterov", description = "Nesterov momentum") boolean nesterov;

  @Option(names = "--weight-decay", defaultValue = "5e-4",
      description = "L2 on conv/linear weights (not on BatchNorm parameters or biases)")
  float weightDecay;

  @Option(names = "--seed", defaultValue = "0") long seed;

  @Option(names = "--train-limit", defaultValue = "0", paramLabel = "N",
      description = "train on the first N training images only (0 = all)")
  int trainLimit;

  @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N",
      description = "evaluate on the first N test images after each epoch (0 = all, -1 = none)")
  int testLimit;

  @Option(names = "--no-augment", description = "no pad-and-crop / flip augmentation")
  boolean noAugment;

  @Option(names = "--out", required = true, paramLabel = "FILE.safetensors") Path out;

  @Mixin Options options;

  @Mixin BertOptions bert;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec commandSpec;

  @Override
  public void validate() {
    Validated.requireFile("--out", out);
    Validated.requireWritableTarget("--out", out);
    config();
  }

  /** The recipe; IllegalArgumentException naming the option for a value out of range. */
  private TrainConfig config() {
    if (textData()) {
      textConfig();
      return null;
    }
    return new TrainConfig(input.arch, epochs, batch, lr, momentum, nesterov, weightDecay, seed,
        trainLimit, testLimit, !noAugment, options.numerics());
  }

  private boolean textData() {
    return org.qlimit.data.TextDatasets.isKnown(input.data);
  }

  /**
   * The BERT recipe: --batch, --lr and --weight-decay default to the text recipe's 32, 1e-3 and
   * 0.01 ({@link TextTrainConfig#small}) unless given.
   */
  private TextTrainConfig textConfig() {
    TextTrainConfig d = TextTrainConfig.small(epochs, seed, options.numerics());
    picocli.CommandLine.ParseResult pr = commandSpec.commandLine().getParseResult();
    return new TextTrainConfig(bert.hidden, bert.layers, bert.heads, bert.intermediate,
        bert.maxLength, bert.minCount, epochs,
        pr.hasMatchedOption("--batch") ? batch : d.batch(),
        pr.hasMatchedOption("--lr") ? lr : d.lr(), bert.warmup,
        pr.hasMatchedOption("--weight-decay") ? weightDecay : d.weightDecay(), seed, trainLimit,
        testLimit, options.numerics());
  }

  @Override
  public Integer call() throws Exception {
    if (textData()) {
      return TextTrainJob.run(textConfig(), input.data, input.dataDir, out);
    }
    NumericsConfig numerics = options.numerics();
    TrainConfig cfg = config();
    Architectures.Spec spec = Architectures.get(input.arch);
    Normalization norm = Datasets.normalization(input.data);
    Datasets.Split split = Datasets.load(input.data, input.dataDir);
    if (cfg.trainLimit() > split.train().n()) {
      throw new UsageError("--train-limit " + cfg.trainLimit() + " exceeds the "
          + split.train().n() + " training images of " + split.train().name());
    }
    int images = cfg.trainLimit() == 0 ? split.train().n() : cfg.trainLimit();
    if (images < cfg.batch()) {
      throw new UsageError("--batch " + cfg.batch() + " exceeds the " + images + " training "
          + "images used (" + split.train().name() + (cfg.trainLimit() == 0 ? ""
          : ", --train-limit " + cfg.trainLimit()) + "); lower --batch");
    }
    PrintStream log = System.out;
    log.printf(Locale.ROOT, "qlimit train: %s on %s (%s), %s; %d thread(s), %d-bit vectors%n",
        input.arch, split.train().name(), spec.dataset(), cfg.recipe(), numerics.threads(),
        numerics.vectorBits());
    long t0 = System.nanoTime();
    Trainer trainer = new Trainer(cfg);
    ClassCoverage trainCoverage = ClassCoverage.check(trainer.model(), split.train(),
        cfg.trainLimit());
    ClassCoverage testCoverage = cfg.testLimit() < 0 ? null
        : ClassCoverage.check(trainer.model(), split.test(), cfg.testLimit());
    for (ClassCoverage c : new ClassCoverage[] {trainCoverage, testCoverage}) {
      if (c != null && !c.complete()) {
        log.println("note: " + c.describe());
      }
    }
    Trainer.Result result = trainer.fit(split.train(), split.test(), norm,
        new EpochProgress(log, "train top-1", "test top-1"));
    double seconds = (System.nanoTime() - t0) / 1e9;

    double top1 = result.finalTestTop1();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("arch", input.arch);
    meta.put("dataset", split.dataset());
    meta.put("recipe", cfg.recipe());
    meta.put("fp32_test_top1", Double.isNaN(top1) ? "not evaluated" : fmt(top1));
    meta.put("trained_with", "qlimit train " + Main.VERSION);
    // the folders are made only now, so a run that fails leaves nothing behind
    Path parent = out.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Checkpoints.write(out, result.state(), meta);

    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = om.createObjectNode();
    r.put("qlimit_version", Main.VERSION);
    r.put("command", "train");
    r.put("arch", input.arch);
    r.put("dataset", split.dataset());
    r.put("data_dir", String.valueOf(split.directory()));
    r.put("train_set", split.train().name());
    r.put("train_images", cfg.trainLimit() == 0 ? split.train().n() : cfg.trainLimit());
    r.put("test_images", cfg.testLimit() == 0 ? split.test().n()
        : Math.min(Math.max(cfg.testLimit(), 0), split.test().n()));
    r.put("recipe", cfg.recipe());
    r.put("model_classes", trainer.model().numClasses());
    r.put("train_classes_present", trainCoverage.classesPresent());
    if (testCoverage != null) {
      r.put("classes_present", testCoverage.classesPresent());
    }
    ObjectNode c = r.putObject("config");
    c.put("epochs", cfg.epochs());
    c.put("batch", cfg.batch());
    c.put("lr", cfg.lr());
    c.put("lr_schedule", "cosine to 0, per iteration");
    c.put("momentum", cfg.momentum());
    c.put("nesterov", cfg.nesterov());
    c.put("weight_decay", cfg.weightDecay());
    c.put("weight_decay_on", "conv and linear weights");
    c.put("augment", cfg.augment());
    c.put("seed", cfg.seed());
    c.put("train_limit", cfg.trainLimit());
    c.put("test_limit", cfg.testLimit());
    c.put("threads", numerics.threads());
    c.put("vector_bits", numerics.vectorBits());
    ArrayNode h = r.putArray("history");
    for (Trainer.EpochRecord e : result.history()) {
      ObjectNode en = h.addObject();
      en.put("epoch", e.epoch());
      en.put("steps", e.steps());
      en.put("train_loss", Math.round(e.trainLoss() * 1e5) / 1e5);
      en.put("train_top1", round2(e.trainTop1()));
      if (Double.isNaN(e.testTop1())) {
        en.putNull("test_top1");
      } else {
        en.put("test_top1", round2(e.testTop1()));
      }
      en.put("last_lr", e.lastLr());
      en.put("seconds", Math.round(e.seconds() * 10) / 10.0);
    }
    if (Double.isNaN(top1)) {
      r.putNull("final_test_top1");
    } else {
      r.put("final_test_top1", round2(top1));
    }
    r.put("seconds", Math.round(seconds * 10) / 10.0);
    r.put("checkpoint_sha256", Hashing.sha256(out));
    r.put("train_content_sha256", split.train().sourceSha256());
    r.put("test_content_sha256", split.test().sourceSha256());
    r.put("java_version", System.getProperty("java.version"));
    Path json = historyFile(out);
    om.writeValue(json.toFile(), r);
    log.printf(Locale.ROOT, "%nfinal test top-1 %s %% after %d epoch(s) (%s)%nwrote %s and %s%n",
        Double.isNaN(top1) ? "n/a" : fmt(top1), cfg.epochs(), ProgressBar.time(seconds), out,
        json);
    return 0;
  }

  /** FILE.safetensors -> FILE.json (else FILE + ".json"). */
  static Path historyFile(Path out) {
    String name = out.getFileName().toString();
    String base = name.endsWith(".safetensors")
        ? name.substring(0, name.length() - ".safetensors".length()) : name;
    return out.resolveSibling(base + ".json");
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
