package org.qlimit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.qlimit.data.TextDatasets;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.eval.Evaluator;
import org.qlimit.eval.TextEvaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.ForwardContext;
import org.qlimit.quant.QuantContext;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.recon.UnitRecord;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * {@code qlimit quantize --arch bert --data sst2|trec}: quantizes a BERT checkpoint (config.json
 * and vocab.txt beside it) with the settings of ALGORITHMS.md §11, calibrating on the first N
 * training sentences, and reports the accuracy on the evaluation split (SST-2 dev, TREC test)
 * with the FP accuracy and the quantized model's hash in {@code --out}/result.json. The folder is
 * a run folder like an image run's: quantized.safetensors ({@link QuantExport#write}: integer
 * weights, per-channel scales and zero points, every activation site's step and zero point; the
 * method and quantized_sha256 in its metadata) and manifest.json (config.model, arch, dataset,
 * data_dir, the reconstruction settings, checksums), so that {@code export} and {@code trace} read
 * it as they read an image run.
 */
final class TextQuantizeJob {
  private TextQuantizeJob() {}

  /** Sentences for QDrop's activation range search on BERT (§11). */
  static final int BERT_QDROP_ACT_SENTENCES = 64;

  static int run(Path modelFile, String data, Path dataDir, ReconConfig rc, int calib,
      NumericsConfig numerics, int evalLimit, Path out) throws Exception {
    run(new QuantizeJob.Spec(modelFile, "bert", data, dataDir, rc, calib, numerics, evalLimit,
        out, false, false), System.out, null, Map.of());
    return 0;
  }

  /**
   * A run as {@link QuantizeJob#run(QuantizeJob.Spec, PrintStream, Double, Map)} makes for the
   * image sets: {@code layerBits} (layer name → bits, overriding the uniform rule for the layers
   * it names; used by {@code mixed}), {@code knownFpTop1} the FP accuracy when already measured
   * (then not measured again), {@code spec.quiet()} prints nothing.
   */
  static QuantizeJob.Outcome run(QuantizeJob.Spec spec, PrintStream stdout, Double knownFpTop1,
      Map<String, Integer> layerBits) throws java.io.IOException {
    PrintStream log = spec.quiet() ? new PrintStream(java.io.OutputStream.nullOutputStream())
        : stdout;
    Path modelFile = spec.modelFile();
    String data = spec.dataset();
    int calib = spec.calib();
    NumericsConfig numerics = spec.numerics();
    int evalLimit = spec.evalLimit();
    long t0 = System.nanoTime();
    // ALGORITHMS.md §11: QDrop's 2-D activation range search runs on the first 64 calibration
    // sentences (BRECQ's count) instead of 256: over attention maps it dominates the run time
    ReconConfig rc = spec.recon().toBuilder().qdropActImages(Math.min(
        spec.recon().qdropActImages(), BERT_QDROP_ACT_SENTENCES)).build();
    Architectures.BertBundle b = Architectures.loadBert(modelFile);
    TextDatasets.Split split = TextDatasets.load(data, spec.dataDir());
    if (calib > split.train().n()) {
      throw new UsageError("--calib " + calib + " exceeds the " + split.train().n()
          + " training sentences of " + split.train().name());
    }
    int maxLen = b.config().maxPositions();
    TokenizedSentences cal = TokenizedSentences.encode(split.train().subset(0, calib),
        b.tokenizer(), maxLen);
    int total = evalLimit <= 0 ? split.eval().n() : Math.min(evalLimit, split.eval().n());
    TokenizedSentences ev = TokenizedSentences.encode(split.eval().subset(0, total),
        b.tokenizer(), maxLen);
    Kernels k = Kernels.of(numerics);
    String wLabel = layerBits.isEmpty() ? Integer.toString(rc.wbits()) : "mixed";
    log.printf(Locale.ROOT, "qlimit quantize: bert on %s, %s W%sA%s, %d iterations per unit, "
            + "%d calibration sentences (padded to %d tokens), seed %d; %d thread(s)%n",
        split.dataset(), rc.method().name().toLowerCase(Locale.ROOT), wLabel,
        rc.quantizeActivations() ? Integer.toString(rc.abits()) : "32", rc.iters(), calib,
        cal.longest(), rc.seed(), numerics.threads());
    QuantizeJob.CliListener units = new QuantizeJob.CliListener(log);
    Reconstructor recon = new Reconstructor(b.model(), rc, k, new ReconListener() {
      @Override
      public void stage(String description) {
        units.stage(description);
      }

      @Override
      public void unitEnd(UnitRecord r) {
        units.unitEnd(r);
      }
    }, layerBits);
    Reconstructor.Result result = recon.run(cal.batch(0, calib));
    String sha = QuantExport.sha256(result.state());
    double seconds = (System.nanoTime() - t0) / 1e9;
    double fp = knownFpTop1 != null ? knownFpTop1 : TextEvaluator.accuracy(b.model(),
        ForwardContext.FP, k, ev, 64, total, Evaluator.Progress.NONE).percent();
    Evaluator.Accuracy q = TextEvaluator.accuracy(b.model(), QuantContext.full(result.state()), k,
        ev, 64, total, Evaluator.Progress.NONE);
    Path out = spec.out();
    Files.createDirectories(out);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("method", rc.method().cliName());
    meta.put("quantized_sha256", sha);
    QuantExport.write(out.resolve("quantized.safetensors"), result.state(), meta);
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = om.createObjectNode();
    r.put("qlimit_version", Main.VERSION);
    r.put("command", "quantize");
    r.put("arch", "bert");
    r.put("dataset", split.dataset());
    r.put("eval_set", split.eval().name());
    r.put("eval_sentences", total);
    r.put("method", rc.method().name().toLowerCase(Locale.ROOT));
    if (layerBits.isEmpty()) {
      r.put("wbits", rc.wbits());
    } else {
      r.put("wbits", "mixed");
    }
    r.put("abits", rc.quantizeActivations() ? rc.abits() : 32);
    r.put("iters", rc.iters());
    r.put("calib_sentences", calib);
    r.put("seed", rc.seed());
    r.put("qdrop_act_sentences", rc.qdropActImages());
    r.put("fp_accuracy", Math.round(fp * 100) / 100.0);
    r.put("accuracy", Math.round(q.percent() * 100) / 100.0);
    r.put("quantized_sha256", sha);
    r.put("reconstruction_seconds", Math.round(seconds * 10) / 10.0);
    r.put("model_sha256", Hashing.sha256(modelFile));
    r.put("train_content_sha256", split.train().sourceSha256());
    r.put("eval_content_sha256", split.eval().sourceSha256());
    r.put("threads", numerics.threads());
    om.writeValue(out.resolve("result.json").toFile(), r);
    ObjectNode m = om.createObjectNode();
    m.put("qlimit_version", Main.VERSION);
    m.put("command", "quantize");
    ObjectNode cfg = m.putObject("config");
    cfg.put("model", modelFile.toString());
    cfg.put("arch", "bert");
    cfg.put("dataset", split.dataset());
    cfg.put("data_dir", String.valueOf(split.directory()));
    cfg.put("calib", calib);
    cfg.put("calib_selection", "first N training sentences in file order");
    cfg.put("eval_limit", evalLimit);
    cfg.set("recon", om.valueToTree(rc));
    m.put("seed", rc.seed());
    ObjectNode sums = m.putObject("checksums");
    sums.put("model_sha256", r.get("model_sha256").asText());
    sums.put("train_content_sha256", split.train().sourceSha256());
    sums.put("eval_content_sha256", split.eval().sourceSha256());
    ObjectNode env = m.putObject("environment");
    env.put("java_version", System.getProperty("java.version"));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    env.put("vector_bits", numerics.vectorBits());
    env.put("threads", numerics.threads());
    om.writeValue(out.resolve("manifest.json").toFile(), m);
    log.printf(Locale.ROOT, "%s accuracy: FP %.2f %%, quantized %.2f %% (%d/%d) (%s)%n"
            + "quantized_sha256 %s%nwrote %s, quantized.safetensors, manifest.json%n",
        split.eval().name(), fp, q.percent(), q.correct(), q.total(), ProgressBar.time(seconds),
        sha, spec.out().resolve("result.json"));
    return new QuantizeJob.Outcome(fp, q.percent(), seconds, sha,
        spec.out().resolve("result.json"), total, null);
  }
}
