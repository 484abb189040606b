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
import org.qlimit.data.TextDatasets;
import org.qlimit.model.Checkpoints;
import org.qlimit.train.TextTrainConfig;
import org.qlimit.train.TextTrainer;
import org.qlimit.train.Trainer;
import org.qlimit.util.Hashing;

/**
 * {@code qlimit train --arch bert --data sst2|trec}: trains a BERT-layout encoder from scratch
 * ({@link TextTrainer}) and writes, in the folder of {@code --out}, the safetensors checkpoint
 * (transformers names), {@code config.json}, {@code vocab.txt} and the JSON history
 * (FILE.json): the layout a Hugging Face BertForSequenceClassification folder has.
 */
final class TextTrainJob {
  private TextTrainJob() {}

  static int run(TextTrainConfig cfg, String data, Path dataDir, Path out) throws Exception {
    TextDatasets.Split split = TextDatasets.load(data, dataDir);
    if (cfg.trainLimit() > split.train().n()) {
      throw new UsageError("--train-limit " + cfg.trainLimit() + " exceeds the "
          + split.train().n() + " training sentences of " + split.train().name());
    }
    PrintStream log = System.out;
    log.printf(Locale.ROOT, "qlimit train: bert on %s, %s; %d thread(s), %d-bit vectors%n",
        split.train().name(), cfg.recipe(), cfg.numerics().threads(),
        cfg.numerics().vectorBits());
    long t0 = System.nanoTime();
    TextTrainer trainer = new TextTrainer(cfg, split.train());
    log.printf(Locale.ROOT, "vocabulary: %d tokens; evaluation on %s%n",
        trainer.vocabulary().vocabSize(), split.eval().name());
    TextTrainer.Result result = trainer.fit(split.train(), split.eval(),
        new EpochProgress(log, "train accuracy", "eval accuracy"));
    double seconds = (System.nanoTime() - t0) / 1e9;
    double acc = result.finalAccuracy();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("arch", "bert");
    meta.put("dataset", split.dataset());
    meta.put("recipe", cfg.recipe());
    meta.put("fp32_eval_accuracy", Double.isNaN(acc) ? "not evaluated" : fmt(acc));
    meta.put("eval_split", split.eval().name());
    meta.put("trained_with", "qlimit train " + Main.VERSION);
    Path parent = out.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Checkpoints.write(out, result.state(), meta);
    result.config().write(parent.resolve("config.json"));
    result.vocabulary().write(parent.resolve("vocab.txt"));

    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = om.createObjectNode();
    r.put("qlimit_version", Main.VERSION);
    r.put("command", "train");
    r.put("arch", "bert");
    r.put("dataset", split.dataset());
    r.put("train_set", split.train().name());
    r.put("train_sentences", cfg.trainLimit() == 0 ? split.train().n() : cfg.trainLimit());
    r.put("eval_set", split.eval().name());
    r.put("recipe", cfg.recipe());
    r.put("vocabulary_size", result.vocabulary().vocabSize());
    ArrayNode h = r.putArray("history");
    for (Trainer.EpochRecord e : result.history()) {
      ObjectNode en = h.addObject();
      en.put("epoch", e.epoch());
      en.put("steps", e.steps());
      en.put("train_loss", Math.round(e.trainLoss() * 1e5) / 1e5);
      en.put("train_accuracy", Math.round(e.trainTop1() * 100) / 100.0);
      if (Double.isNaN(e.testTop1())) {
        en.putNull("eval_accuracy");
      } else {
        en.put("eval_accuracy", Math.round(e.testTop1() * 100) / 100.0);
      }
      en.put("last_lr", e.lastLr());
      en.put("seconds", Math.round(e.seconds() * 10) / 10.0);
    }
    if (Double.isNaN(acc)) {
      r.putNull("final_eval_accuracy");
    } else {
      r.put("final_eval_accuracy", Math.round(acc * 100) / 100.0);
    }
    r.put("seconds", Math.round(seconds * 10) / 10.0);
    r.put("threads", cfg.numerics().threads());
    r.put("checkpoint_sha256", Hashing.sha256(out));
    r.put("train_content_sha256", split.train().sourceSha256());
    r.put("eval_content_sha256", split.eval().sourceSha256());
    r.put("java_version", System.getProperty("java.version"));
    Path json = TrainCommand.historyFile(out);
    om.writeValue(json.toFile(), r);
    log.printf(Locale.ROOT, "%nfinal %s accuracy %s %% after %d epoch(s) (%s)%nwrote %s, "
            + "config.json, vocab.txt and %s%n", split.eval().name(),
        Double.isNaN(acc) ? "n/a" : fmt(acc), cfg.epochs(), ProgressBar.time(seconds), out,
        json.getFileName());
    return 0;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
