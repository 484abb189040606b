package org.qlimit.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantContext;
import org.qlimit.recon.CacheStore;
import org.qlimit.recon.Granularity;
import org.qlimit.recon.MappedCacheStore;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.Method;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconLoss;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.recon.UnitRecord;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * One quantization run from files to results: load the model and data, calibrate and
 * reconstruct, evaluate FP and quantized top-1, write result.json, the quantized model and a run
 * manifest. Shared by {@code quantize} and {@code demo}.
 */
final class QuantizeJob {
  private QuantizeJob() {}

  /** Inputs of a run. */
  record Spec(Path modelFile, String arch, String dataset, Path dataDir, ReconConfig recon,
      int calib, NumericsConfig numerics, int evalLimit, Path out, boolean quiet,
      boolean resume) {}

  /** What a run produced ({@code evalImages}: the test images top-1 was measured on). */
  record Outcome(double fpTop1, double top1, double seconds, String sha256, Path resultFile,
      int evalImages) {}

  static Normalization normalization(String dataset) {
    return switch (dataset.toLowerCase(Locale.ROOT)) {
      case "fashion-mnist", "fmnist" -> Normalization.FASHION_MNIST;
      case "cifar10", "cifar-10" -> Normalization.CIFAR10;
      case "imagefolder", "imagenet" -> Normalization.IMAGENET;
      default -> throw new IllegalArgumentException("no normalization known for " + dataset);
    };
  }

  static Outcome run(Spec spec, PrintStream log, Double knownFpTop1) throws IOException {
    return run(spec, log, knownFpTop1, Map.of());
  }

  /**
   * A run with per-layer weight bit widths ({@code layerBits}: layer name → bits, overriding the
   * uniform rule for the layers it names; used by {@code mixed}).
   */
  static Outcome run(Spec spec, PrintStream log, Double knownFpTop1,
      Map<String, Integer> layerBits) throws IOException {
    OutOfMemory.Watch watch = new OutOfMemory.Watch();
    watch.calib = spec.calib();
    boolean outExisted = Files.exists(spec.out());
    boolean done = false;
    try {
      Outcome o = run(spec, log, knownFpTop1, layerBits, watch);
      done = true;
      return o;
    } catch (OutOfMemoryError e) {
      // the run's frame is gone: everything it allocated can be collected before the report
      throw watch.failure(e);
    } finally {
      if (!done && !outExisted) {
        deleteIfEmpty(spec.out());
      }
    }
  }

  /** A failed run leaves no empty output folder behind (a kept checkpoint keeps it). */
  private static void deleteIfEmpty(Path dir) {
    try (java.util.stream.Stream<Path> entries = Files.isDirectory(dir) ? Files.list(dir)
        : java.util.stream.Stream.empty()) {
      if (Files.isDirectory(dir) && entries.findAny().isEmpty()) {
        Files.delete(dir);
      }
    } catch (IOException e) {
      // best effort: the run's own error is what the user needs to see
    }
  }

  private static Outcome run(Spec spec, PrintStream log, Double knownFpTop1,
      Map<String, Integer> layerBits, OutOfMemory.Watch watch) throws IOException {
    long t0 = System.nanoTime();
    if (!Files.isRegularFile(spec.modelFile())) {
      throw new IllegalArgumentException("model file not found: " + spec.modelFile());
    }
    Model model = Architectures.load(spec.arch(), spec.modelFile());
    Datasets.Split data = Datasets.load(spec.dataset(), spec.dataDir());
    Normalization norm = normalization(spec.dataset());
    LabeledImages train = data.train();
    if (spec.calib() > train.n()) {
      throw new UsageError("--calib " + spec.calib() + " exceeds the "
          + train.n() + " training images of " + train.name()
          + "; lower --calib or pass --data-dir with the full training set");
    }
    LabeledImages test = data.test();
    int limit = spec.evalLimit() <= 0 ? test.n() : Math.min(spec.evalLimit(), test.n());
    ClassCoverage calibCoverage = ClassCoverage.check(model, train, spec.calib());
    ClassCoverage testCoverage = ClassCoverage.check(model, test, limit);
    int[] calibIdx = CalibrationSampler.firstN(train, spec.calib());
    Tensor calib = Evaluator.batch(train, norm, calibIdx);
    Kernels k = Kernels.of(spec.numerics());
    ReconConfig rc = spec.recon();
    String wLabel = layerBits.isEmpty() ? Integer.toString(rc.wbits()) : "mixed";
    if (!spec.quiet()) {
      log.printf(Locale.ROOT, "qlimit quantize: %s %s on %s, W%sA%s, %s%s, %d "
              + "calibration images, seed %d, %d thread(s), %d-bit vectors%n",
          rc.method().cliName(), spec.arch(), spec.dataset(), wLabel,
          rc.abits() == 32 ? "32" : rc.abits(), iterations(rc),
          rc.method() == Method.RTN ? "" : ", λ " + rc.roundLambda(), spec.calib(), rc.seed(),
          spec.numerics().threads(), spec.numerics().vectorBits());
      for (ClassCoverage c : List.of(calibCoverage, testCoverage)) {
        if (!c.complete()) {
          log.println("note: " + c.describe());
        }
      }
      if (spec.evalLimit() > test.n()) {
        log.printf(Locale.ROOT, "note: --eval-limit %d exceeds the %d images of %s; evaluating "
            + "all %d%n", spec.evalLimit(), test.n(), test.name(), test.n());
      }
    }
    MemoryEstimate mem = MemoryEstimate.of(model, rc, spec.calib(),
        (long) train.pixels().length + data.test().pixels().length
            + (long) calib.numel() * Float.BYTES, k);
    long heap = Runtime.getRuntime().maxMemory();
    boolean mapCaches = !mem.cachesFitHeap(heap);
    watch.estimate = mem;
    watch.mappedCaches = mapCaches;
    watch.stage = "preparing the run";
    if (mapCaches) {
      checkDiskSpace(spec.out(), mem);
    }
    if (!spec.quiet()) {
      log.printf(Locale.ROOT, "memory: estimate %s; heap %s (margin %s): %s%n", mem.describe(),
          MemoryEstimate.bytes(heap), MemoryEstimate.bytes(MemoryEstimate.margin(heap)),
          mapCaches ? "the caches do not fit, so they go to memory-mapped files under "
              + spec.out() : mem.caches() == 0 ? "no caches" : "the caches fit in the heap");
    }
    ReconListener listener = watch.following(spec.quiet() ? ReconListener.NONE
        : new CliListener(log));
    String modelSha = Hashing.sha256(spec.modelFile());
    RunCheckpoint checkpoint = new RunCheckpoint(spec.out(),
        checkpointKey(modelSha, spec, model, calib, layerBits));
    Reconstructor recon = new Reconstructor(model, rc, k, listener, layerBits)
        .checkpointEach(checkpoint::save);
    int resumedUnits = 0;
    if (spec.resume()) {
      Reconstructor.Checkpoint c = checkpoint.load(model);
      resumedUnits = c.records().size();
      if (!spec.quiet()) {
        log.printf(Locale.ROOT, "resuming from %s: %d unit(s) done%n", checkpoint.file(),
            c.records().size());
      }
      recon.resumeFrom(c);
    } else if (checkpoint.exists() && !spec.quiet()) {
      log.printf(Locale.ROOT, "note: replacing the checkpoint in %s (pass --resume to continue "
          + "it instead)%n", spec.out());
    }
    Reconstructor.Result result;
    watch.stage = "reconstructing";
    CacheStore store = mapCaches ? CacheStore.mapped(spec.out()) : CacheStore.HEAP;
    try {
      if (mapCaches && !spec.quiet()) {
        log.printf(Locale.ROOT, "  activation caches: %s%n", store);
      }
      result = recon.cacheStore(store).run(calib);
    } finally {
      store.close();
      if (mapCaches && !spec.quiet()) {
        Path dir = ((MappedCacheStore) store).directory();
        log.printf(Locale.ROOT, "  activation caches: %s%n", Files.exists(dir)
            ? "could not delete " + dir + " now; it is deleted when qlimit exits"
            : "deleted " + dir);
      }
    }
    watch.stage = "evaluating";
    checkpoint.delete();
    String sha = QuantExport.sha256(result.state());

    double fp;
    if (knownFpTop1 != null) {
      fp = knownFpTop1;
    } else {
      ProgressBar fb = spec.quiet() ? null : new ProgressBar(log, "eval FP", limit);
      fp = Evaluator.top1(model, ForwardContext.FP, k, test, norm, 100, limit,
          fb == null ? Evaluator.Progress.NONE : (d, t) -> fb.update(d, "")).percent();
    }
    ProgressBar qb = spec.quiet() ? null : new ProgressBar(log, "eval quantized", limit);
    double q = Evaluator.top1(model, QuantContext.full(result.state()), k, test, norm, 100, limit,
        qb == null ? Evaluator.Progress.NONE : (d, t) -> qb.update(d, "")).percent();
    double seconds = (System.nanoTime() - t0) / 1e9;

    watch.stage = "writing the results";
    Files.createDirectories(spec.out());
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("method", rc.method().cliName());
    meta.put("quantized_sha256", sha);
    QuantExport.write(spec.out().resolve("quantized.safetensors"), result.state(), meta);

    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode r = om.createObjectNode();
    r.put("method", rc.method().cliName());
    r.put("arch", spec.arch());
    r.put("dataset", spec.dataset());
    r.put("wbits", rc.wbits());
    r.put("abits", rc.abits());
    // iterations and settings the method used (the manifest has the whole configuration)
    r.put("iters", rc.method() == Method.RTN ? 0 : rc.iters());
    if (brecqActivationPhase(rc)) {
      r.put("iters_act", rc.itersAct());
    }
    r.put("calib", spec.calib());
    r.put("seed", rc.seed());
    if (qdropDropping(rc)) {
      r.put("keep_prob", rc.keepProb());
    }
    if (rc.method() == Method.BRECQ || rc.method() == Method.QDROP) {
      r.put("granularity", rc.granularity().cliName());
      r.put("loss", rc.loss().cliName());
    }
    r.put("eval_images", limit);
    r.put("model_classes", model.numClasses());
    r.put("classes_present", testCoverage.classesPresent());
    r.put("calib_classes_present", calibCoverage.classesPresent());
    r.put("fp_top1", round2(fp));
    r.put("top1", round2(q));
    r.put("seconds", Math.round(seconds * 10) / 10.0);
    // Unit records taken from a checkpoint (--resume; one per unit and phase, a prefix of
    // "units"): "seconds" covers only this command, the records keep every unit's seconds.
    r.put("resumed_units", resumedUnits);
    r.put("quantized_sha256", sha);
    ArrayNode units = r.putArray("units");
    for (UnitRecord u : result.records()) {
      ObjectNode un = units.addObject();
      un.put("unit", u.unit());
      un.put("phase", u.phase());
      un.put("iters", u.iters());
      if (u.isSkipped()) {
        un.put("skipped", u.skipped());
      } else {
        putNumber(un, "loss_before", u.lossBefore());
        putNumber(un, "loss_after", u.lossAfter());
      }
      un.put("seconds", Math.round(u.seconds() * 100) / 100.0);
    }
    Path resultFile = spec.out().resolve("result.json");
    om.writeValue(resultFile.toFile(), r);

    ObjectNode m = om.createObjectNode();
    m.put("qlimit_version", Main.VERSION);
    m.put("command", "quantize");
    ObjectNode cfg = m.putObject("config");
    cfg.put("model", spec.modelFile().toString());
    cfg.put("arch", spec.arch());
    cfg.put("dataset", spec.dataset());
    cfg.put("data_dir", String.valueOf(data.directory()));
    cfg.put("calib", spec.calib());
    cfg.put("calib_selection", "first N training images in file order");
    cfg.put("eval_limit", limit);
    cfg.set("recon", om.valueToTree(rc));
    m.put("seed", rc.seed());
    ObjectNode sums = m.putObject("checksums");
    sums.put("model_sha256", modelSha);
    sums.put("train_content_sha256", train.sourceSha256());
    sums.put("test_content_sha256", test.sourceSha256());
    ObjectNode env = m.putObject("environment");
    env.put("java_version", System.getProperty("java.version"));
    env.put("java_vm", System.getProperty("java.vm.name") + " " + System.getProperty("java.vm.version"));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    env.put("vector_bits", spec.numerics().vectorBits());
    env.put("threads", spec.numerics().threads());
    env.put("available_processors", Runtime.getRuntime().availableProcessors());
    om.writeValue(spec.out().resolve("manifest.json").toFile(), m);

    if (!spec.quiet()) {
      log.printf(Locale.ROOT, "%nFP top-1 %.2f %%  ->  %s W%sA%d top-1 %.2f %%  (%d test images, "
              + "%s)%nquantized_sha256 %s%nwrote %s, quantized.safetensors, manifest.json%n",
          fp, rc.method().cliName(), wLabel, rc.abits(), q, limit,
          ProgressBar.time(seconds), sha, resultFile);
    }
    return new Outcome(fp, q, seconds, sha, resultFile, limit);
  }

  /**
   * Fails (one line) when the file system of {@code out} has less room than the estimated caches
   * of {@code mem} need as memory-mapped files.
   */
  private static void checkDiskSpace(Path out, MemoryEstimate mem) throws IOException {
    long bytes = mem.caches();
    Path p = out.toAbsolutePath();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    if (p == null) {
      return;
    }
    long free = Files.getFileStore(p).getUsableSpace();
    if (free < bytes) {
      throw new IllegalArgumentException("the activation caches (" + MemoryEstimate.bytes(bytes)
          + ") do not fit in the heap and need that much disk under " + out + ", which has "
          + MemoryEstimate.bytes(free) + " free; lower --calib, free disk space, or raise the "
          + "heap with QLIMIT_JAVA_OPTS=-Xmx" + OutOfMemory.suggestedHeap(mem.total()));
    }
  }

  /**
   * SHA-256 over what determines a run's result: the model file (its SHA-256), the architecture, the
   * calibration images (their float bits), the reconstruction configuration and the per-layer
   * bits.
   */
  static String checkpointKey(String modelSha, Spec spec, Model model, Tensor calib,
      Map<String, Integer> layerBits) {
    java.security.MessageDigest md = Hashing.sha256();
    Hashing.update(md, modelSha);
    Hashing.update(md, model.arch());
    Hashing.update(md, calib.contiguous().data());
    spec.recon().updateDigest(md);
    Hashing.update(md, layerBits.toString());
    return Hashing.hex(md.digest());
  }

  /**
   * The iterations a configuration runs, as the banner states them: none for RTN, per layer for
   * AdaRound, per unit for BRECQ (plus its activation phase when activations are quantized) and
   * QDrop (with its keep probability when activations are quantized, the only case that drops).
   */
  static String iterations(ReconConfig rc) {
    return switch (rc.method()) {
      case RTN -> "no iterations (nearest rounding)";
      case ADAROUND -> rc.iters() + " iters/layer";
      case BRECQ -> brecqActivationPhase(rc) ? rc.iters() + " iters/unit + " + rc.itersAct()
          + " activation iters/unit" : rc.iters() + " iters/unit";
      case QDROP -> rc.iters() + " iters/unit" + (qdropDropping(rc) ? ", keep prob "
          + rc.keepProb() : ", no dropping (activations not quantized)");
    } + ablations(rc);
  }

  /** ", granularity G" and ", loss L" when they differ from the defaults (block, mse). */
  private static String ablations(ReconConfig rc) {
    return (rc.granularity() == Granularity.BLOCK ? "" : ", granularity "
        + rc.granularity().cliName())
        + (rc.loss() == ReconLoss.MSE ? "" : ", loss " + rc.loss().cliName());
  }

  /** Whether QDrop mixes quantized and FP values (only when activations are quantized). */
  static boolean qdropDropping(ReconConfig rc) {
    return rc.method() == Method.QDROP && rc.quantizeActivations();
  }

  /** Whether BRECQ's second phase (learning the activation steps) runs. */
  private static boolean brecqActivationPhase(ReconConfig rc) {
    return rc.method() == Method.BRECQ && rc.quantizeActivations();
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private static void putNumber(ObjectNode n, String key, double v) {
    if (Double.isNaN(v)) {
      n.putNull(key);
    } else {
      n.put(key, v);
    }
  }

  /** Draws a bar per unit and prints the loss every few hundred iterations. */
  static final class CliListener implements ReconListener {
    private final PrintStream log;
    private ProgressBar bar;
    private int every;

    CliListener(PrintStream log) {
      this.log = log;
    }

    @Override
    public void stage(String description) {
      log.println("  " + description);
    }

    @Override
    public void unitStart(int index, int count, String unit, String phase, int iters) {
      bar = new ProgressBar(log, String.format(Locale.ROOT, "%s %d/%d %s", phase.substring(0,
          Math.min(5, phase.length())), index + 1, count, unit), iters);
      every = iters >= 1000 ? 500 : iters >= 200 ? 100 : Math.max(1, iters / 2);
    }

    @Override
    public void iteration(int t, int iters, double loss, double rec, double round) {
      String s = String.format(Locale.ROOT, "loss %.4g", loss);
      bar.update(t, s);
      if (t % every == 0 && t < iters && System.console() != null) {
        bar.message(String.format(Locale.ROOT, "    iter %d/%d  loss %.5g (rec %.5g + round %.5g)",
            t, iters, loss, rec, round));
      }
    }

    @Override
    public void unitEnd(UnitRecord r) {
      if (r.isSkipped()) {
        log.printf(Locale.ROOT, "    %-12s %-11s skipped: %s%n", r.unit(), r.phase(), r.skipped());
        return;
      }
      log.printf(Locale.ROOT, "    %-12s %-11s loss %.5g -> %.5g  (%s)%n", r.unit(), r.phase(),
          r.lossBefore(), r.lossAfter(), ProgressBar.time(r.seconds()));
    }
  }
}
