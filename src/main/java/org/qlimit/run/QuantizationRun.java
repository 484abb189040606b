package org.qlimit.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
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
import org.qlimit.quant.QuantState;
import org.qlimit.recon.CacheStore;
import org.qlimit.recon.MappedCacheStore;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.recon.Method;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.Granularity;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconLoss;
import org.qlimit.recon.Reconstructor;
import org.qlimit.recon.UnitRecord;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * One quantization run from files to results, the library behind {@code qlimit quantize},
 * {@code demo} and {@code mixed}: load the model and the dataset, check the inputs, take the
 * first N training images as the calibration set, reconstruct (ALGORITHMS.md §2–§7) with a
 * checkpoint after each unit, evaluate FP and quantized top-1 on the test set, and, when an
 * output folder is given, write {@code quantized.safetensors}, {@code result.json} and the
 * provenance manifest {@code manifest.json}.
 *
 * <pre>{@code
 * QuantizationRun.Result r = QuantizationRun.builder(
 *         Path.of("datasets/models/resnet20_fmnist.safetensors"), "resnet20-fmnist", "fashion-mnist")
 *     .method(Method.QDROP, 2, 4).iters(20).calibration(64).evalLimit(100)
 *     .build().run();
 * }</pre>
 *
 * <p>Unless a full {@link ReconConfig} is given, the settings are ALGORITHMS.md's defaults with
 * the rounding weight λ of the architecture ({@link Architectures.Spec#roundLambda}). The result
 * depends only on the model, the data and the settings: not on the thread count or the vector
 * width ({@link NumericsConfig}), which a resumed run may change.
 */
public final class QuantizationRun {
  /** The qlimit version recorded in every manifest. */
  public static final String VERSION = "0.1.0";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path modelFile;
  private final String arch;
  private final String dataset;
  private final Path dataDir;
  private final ReconConfig recon;
  private final int calib;
  private final NumericsConfig numerics;
  private final int evalLimit;
  private final Double knownFpTop1;
  private final Map<String, Integer> layerBits;
  private final Path out;
  private final boolean resume;
  private final WeightPhase reuseWeightPhase;
  private final RunListener listener;

  private QuantizationRun(Builder b, ReconConfig recon) {
    this.modelFile = b.modelFile;
    this.arch = b.arch;
    this.dataset = b.dataset;
    this.dataDir = b.dataDir;
    this.recon = recon;
    this.calib = b.calib;
    this.numerics = b.numerics;
    this.evalLimit = b.evalLimit;
    this.knownFpTop1 = b.knownFpTop1;
    this.layerBits = Collections.unmodifiableMap(new LinkedHashMap<>(b.layerBits));
    this.out = b.out;
    this.resume = b.resume;
    this.reuseWeightPhase = b.reuseWeightPhase;
    this.listener = b.listener;
  }

  /**
   * A builder for the run of the checkpoint {@code modelFile} (safetensors, PyTorch names) of
   * architecture {@code arch} (see {@link Architectures#names}) on dataset {@code dataset}
   * (see {@link Datasets#load}).
   */
  public static Builder builder(Path modelFile, String arch, String dataset) {
    return new Builder(modelFile, arch, dataset);
  }

  /** The reconstruction settings the run uses. */
  public ReconConfig recon() {
    return recon;
  }

  /**
   * What a run produced.
   *
   * @param state the quantized model: integer weights, scales and zero points per layer
   * @param records one record per unit and phase, in run order (those of a resumed checkpoint
   *     first)
   * @param quantizedSha256 SHA-256 (hex) of the quantized model, {@link QuantExport#sha256}
   * @param fpTop1 top-1 (%) of the FP model on the evaluated test images
   * @param top1 top-1 (%) of the quantized model on the same images
   * @param evalImages the test images top-1 was measured on
   * @param resumedUnits records taken from the checkpoint or the reused weight phase (0 unless
   *     resumed or reused)
   * @param seconds wall time of the run until the results were written
   * @param resultJson the text of result.json (written to the output folder when there is one)
   * @param manifestJson the text of manifest.json: configuration, checksums, environment
   * @param out the output folder, or null when nothing was written
   * @param weightPhase the run's AdaRound or BRECQ weight phase, for runs that differ only in the
   *     activation bits ({@link Builder#reuseWeightPhase}); null for RTN and QDrop (no such
   *     phase) and for a run resumed from a checkpoint taken after its weight phase
   */
  public record Result(QuantState state, List<UnitRecord> records, String quantizedSha256,
      double fpTop1, double top1, int evalImages, int resumedUnits, double seconds,
      String resultJson, String manifestJson, Path out, WeightPhase weightPhase) {
    /** result.json in the output folder (null when there is none). */
    public Path resultFile() {
      return out == null ? null : out.resolve("result.json");
    }
  }

  /**
   * Runs. A run that fails removes the output folder it created (a kept checkpoint keeps it).
   *
   * @throws IllegalArgumentException for inputs that do not fit (a missing model file, more
   *     calibration images than training images, a checkpoint of another run, labels beyond the
   *     model's classes), naming what was wrong
   * @throws IOException when a file cannot be read or written
   */
  public Result run() throws IOException {
    boolean outExisted = out != null && Files.exists(out);
    boolean done = false;
    try {
      Result r = execute();
      done = true;
      return r;
    } finally {
      if (!done && out != null && !outExisted) {
        deleteIfEmpty(out);
      }
    }
  }

  /** A failed run leaves no empty output folder behind (a kept checkpoint keeps it). */
  private static void deleteIfEmpty(Path dir) {
    try (Stream<Path> entries = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
      if (Files.isDirectory(dir) && entries.findAny().isEmpty()) {
        Files.delete(dir);
      }
    } catch (IOException e) {
      // best effort: the run's own error is what the user needs to see
    }
  }

  private Result execute() throws IOException {
    long t0 = System.nanoTime();
    if (!Files.isRegularFile(modelFile)) {
      throw new IllegalArgumentException("model file not found: " + modelFile);
    }
    Model model = Architectures.load(arch, modelFile);
    Datasets.Split data = Datasets.load(dataset, dataDir);
    Normalization norm = data.normalization();
    LabeledImages train = data.train();
    if (calib > train.n()) {
      throw new InputMismatch("--calib " + calib + " exceeds the "
          + train.n() + " training images of " + train.name()
          + "; lower --calib or pass --data-dir with the full training set");
    }
    LabeledImages test = data.test();
    int limit = evalLimit <= 0 ? test.n() : Math.min(evalLimit, test.n());
    ClassCoverage calibCoverage = ClassCoverage.check(model, train, calib);
    ClassCoverage testCoverage = ClassCoverage.check(model, test, limit);
    int[] calibIdx = CalibrationSampler.firstN(train, calib);
    Tensor calibBatch = Evaluator.batch(train, norm, calibIdx);
    Kernels k = Kernels.of(numerics);
    ReconConfig rc = recon;
    listener.started(description());
    for (ClassCoverage c : List.of(calibCoverage, testCoverage)) {
      if (!c.complete()) {
        listener.note("note: " + c.describe());
      }
    }
    if (evalLimit > test.n()) {
      listener.note(String.format(Locale.ROOT, "note: --eval-limit %d exceeds the %d images of "
          + "%s; evaluating all %d", evalLimit, test.n(), test.name(), test.n()));
    }
    MemoryEstimate mem = MemoryEstimate.of(model, rc, calib,
        (long) train.pixels().length + data.test().pixels().length
            + (long) calibBatch.numel() * Float.BYTES, k);
    long heap = Runtime.getRuntime().maxMemory();
    boolean mapCaches = !mem.cachesFitHeap(heap);
    listener.memory(mem, mapCaches);
    listener.step("preparing the run");
    if (mapCaches) {
      if (out == null) {
        throw new IllegalArgumentException("the activation caches (" + MemoryEstimate.bytes(
            mem.caches()) + ") do not fit in the heap; give an output folder for memory-mapped "
            + "caches, lower the calibration images, or raise the heap, e.g. -Xmx"
            + MemoryEstimate.suggestedHeap(mem.total()));
      }
      checkDiskSpace(out, mem);
    }
    listener.note(String.format(Locale.ROOT, "memory: estimate %s; heap %s (margin %s): %s",
        mem.describe(), MemoryEstimate.bytes(heap),
        MemoryEstimate.bytes(MemoryEstimate.margin(heap)),
        mapCaches ? "the caches do not fit, so they go to memory-mapped files under " + out
            : mem.caches() == 0 ? "no caches" : "the caches fit in the heap"));
    String modelSha = Hashing.sha256(modelFile);
    MessageDigest inputs = inputsDigest(modelSha, model, calibBatch);
    RunCheckpoint checkpoint = out == null ? null
        : new RunCheckpoint(out, checkpointKey(inputs));
    Reconstructor reconstructor = new Reconstructor(model, rc, k, listener, layerBits);
    String phaseKey = Reconstructor.hasWeightPhase(rc.method()) ? weightPhaseKey(inputs) : null;
    // the last checkpoint whose records are all of the weight phase holds the finished phase
    WeightPhase[] learned = new WeightPhase[1];
    reconstructor.checkpointEach(c -> {
      if (checkpoint != null) {
        checkpoint.save(c);
      }
      if (phaseKey != null && c.records().stream().allMatch(Reconstructor::isWeightPhase)) {
        learned[0] = WeightPhase.of(phaseKey, rc.abits(), c);
      }
    });
    int resumedUnits = 0;
    if (reuseWeightPhase != null) {
      if (!reuseWeightPhase.key().equals(phaseKey)) {
        throw new InputMismatch("the reused weight phase was learned with another model, "
            + "calibration set or setting; only the activation bits may differ (and the method "
            + "must be AdaRound or BRECQ)");
      }
      resumedUnits = reuseWeightPhase.records().size();
      listener.note(String.format(Locale.ROOT, "reusing the weight phase of the A%d run: %d "
          + "unit(s), learned with unquantized activations, so the same at A%d",
          reuseWeightPhase.abits(), resumedUnits, rc.abits()));
      reconstructor.resumeFrom(reuseWeightPhase.checkpointFor(model));
      learned[0] = reuseWeightPhase;
    } else if (resume) {
      Reconstructor.Checkpoint c = checkpoint.load(model);
      resumedUnits = c.records().size();
      listener.note(String.format(Locale.ROOT, "resuming from %s: %d unit(s) done",
          checkpoint.file(), c.records().size()));
      reconstructor.resumeFrom(c);
    } else if (checkpoint != null && checkpoint.exists()) {
      listener.note(String.format(Locale.ROOT, "note: replacing the checkpoint in %s (pass "
          + "--resume to continue it instead)", out));
    }
    Reconstructor.Result result;
    listener.step("reconstructing");
    CacheStore store = mapCaches ? CacheStore.mapped(out) : CacheStore.HEAP;
    try {
      if (mapCaches) {
        listener.note(String.format(Locale.ROOT, "  activation caches: %s", store));
      }
      result = reconstructor.cacheStore(store).run(calibBatch);
    } finally {
      store.close();
      if (mapCaches) {
        Path dir = ((MappedCacheStore) store).directory();
        listener.note(String.format(Locale.ROOT, "  activation caches: %s", Files.exists(dir)
            ? "could not delete " + dir + " now; it is deleted when qlimit exits"
            : "deleted " + dir));
      }
    }
    listener.step("evaluating");
    if (checkpoint != null) {
      checkpoint.delete();
    }
    String sha = QuantExport.sha256(result.state());

    double fp;
    if (knownFpTop1 != null) {
      fp = knownFpTop1;
    } else {
      listener.evaluating("FP", 0, limit);
      fp = Evaluator.top1(model, ForwardContext.FP, k, test, norm, 100, limit,
          (d, t) -> listener.evaluating("FP", d, limit)).percent();
    }
    listener.evaluating("quantized", 0, limit);
    double q = Evaluator.top1(model, QuantContext.full(result.state()), k, test, norm, 100, limit,
        (d, t) -> listener.evaluating("quantized", d, limit)).percent();
    double seconds = (System.nanoTime() - t0) / 1e9;

    listener.step("writing the results");
    ObjectNode r = resultJson(model, limit, testCoverage, calibCoverage, fp, q, seconds,
        resumedUnits, sha, result.records());
    if (reuseWeightPhase != null) {
      r.put("weight_phase_reused_from_abits", reuseWeightPhase.abits());
    }
    ObjectNode m = manifest(data, limit, modelSha, train, test);
    if (out != null) {
      Files.createDirectories(out);
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("method", rc.method().cliName());
      meta.put("quantized_sha256", sha);
      QuantExport.write(out.resolve("quantized.safetensors"), result.state(), meta);
      JSON.writeValue(out.resolve("result.json").toFile(), r);
      JSON.writeValue(out.resolve("manifest.json").toFile(), m);
    }
    return new Result(result.state(), result.records(), sha, fp, q, limit, resumedUnits, seconds,
        JSON.writeValueAsString(r), JSON.writeValueAsString(m), out, learned[0]);
  }

  private ObjectNode resultJson(Model model, int limit, ClassCoverage testCoverage,
      ClassCoverage calibCoverage, double fp, double q, double seconds, int resumedUnits,
      String sha, List<UnitRecord> records) {
    ReconConfig rc = recon;
    ObjectNode r = JSON.createObjectNode();
    r.put("method", rc.method().cliName());
    r.put("arch", arch);
    r.put("dataset", dataset);
    r.put("wbits", rc.wbits());
    r.put("abits", rc.abits());
    // iterations and settings the method used (the manifest has the whole configuration)
    r.put("iters", rc.method() == Method.RTN ? 0 : rc.iters());
    if (brecqActivationPhase(rc)) {
      r.put("iters_act", rc.itersAct());
    }
    r.put("calib", calib);
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
    // Unit records taken from a checkpoint (resume; one per unit and phase, a prefix of
    // "units"): "seconds" covers only this run, the records keep every unit's seconds.
    r.put("resumed_units", resumedUnits);
    r.put("quantized_sha256", sha);
    ArrayNode units = r.putArray("units");
    for (UnitRecord u : records) {
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
    return r;
  }

  private ObjectNode manifest(Datasets.Split data, int limit, String modelSha,
      LabeledImages train, LabeledImages test) {
    ObjectNode m = JSON.createObjectNode();
    m.put("qlimit_version", VERSION);
    m.put("command", "quantize");
    ObjectNode cfg = m.putObject("config");
    cfg.put("model", modelFile.toString());
    cfg.put("arch", arch);
    cfg.put("dataset", dataset);
    cfg.put("data_dir", String.valueOf(data.directory()));
    cfg.put("calib", calib);
    cfg.put("calib_selection", "first N training images in file order");
    cfg.put("eval_limit", limit);
    cfg.set("recon", JSON.valueToTree(recon));
    m.put("seed", recon.seed());
    ObjectNode sums = m.putObject("checksums");
    sums.put("model_sha256", modelSha);
    sums.put("train_content_sha256", train.sourceSha256());
    sums.put("test_content_sha256", test.sourceSha256());
    ObjectNode env = m.putObject("environment");
    env.put("java_version", System.getProperty("java.version"));
    env.put("java_vm", System.getProperty("java.vm.name") + " "
        + System.getProperty("java.vm.version"));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    env.put("vector_bits", numerics.vectorBits());
    env.put("threads", numerics.threads());
    env.put("available_processors", Runtime.getRuntime().availableProcessors());
    return m;
  }

  /**
   * The run's settings in one line: method, architecture, dataset, bit widths, iterations, λ,
   * calibration images, seed, threads and vector width.
   */
  public String description() {
    ReconConfig rc = recon;
    String wLabel = layerBits.isEmpty() ? Integer.toString(rc.wbits()) : "mixed";
    return String.format(Locale.ROOT, "%s %s on %s, W%sA%s, %s%s, %d calibration images, seed "
            + "%d, %d thread(s), %d-bit vectors", rc.method().cliName(), arch, dataset, wLabel,
        rc.abits() == 32 ? "32" : rc.abits(), iterations(rc),
        rc.method() == Method.RTN ? "" : ", λ " + rc.roundLambda(), calib, rc.seed(),
        numerics.threads(), numerics.vectorBits());
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
          + "heap with QLIMIT_JAVA_OPTS=-Xmx" + MemoryEstimate.suggestedHeap(mem.total()));
    }
  }

  /**
   * The start of a run's keys: a digest of the model file (its SHA-256), the architecture and the
   * calibration images (their float bits), hashed once for both keys below.
   */
  private static MessageDigest inputsDigest(String modelSha, Model model, Tensor calibBatch) {
    MessageDigest md = Hashing.sha256();
    Hashing.update(md, modelSha);
    Hashing.update(md, model.arch());
    Hashing.update(md, calibBatch.contiguous().data());
    return md;
  }

  /**
   * SHA-256 over what determines a run's result: {@link #inputsDigest}, the reconstruction
   * configuration and the per-layer bits.
   */
  private String checkpointKey(MessageDigest inputs) {
    MessageDigest md = copy(inputs);
    recon.updateDigest(md);
    Hashing.update(md, layerBits.toString());
    return Hashing.hex(md.digest());
  }

  /** {@link #checkpointKey} without the activation bits: the key of a {@link WeightPhase}. */
  private String weightPhaseKey(MessageDigest inputs) {
    MessageDigest md = copy(inputs);
    Hashing.update(md, "weight phase");
    recon.updateWeightPhaseDigest(md);
    Hashing.update(md, layerBits.toString());
    return Hashing.hex(md.digest());
  }

  private static MessageDigest copy(MessageDigest md) {
    try {
      return (MessageDigest) md.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("SHA-256 digest cannot be copied", e);
    }
  }

  /**
   * The iterations a configuration runs, as the run's description states them: none for RTN, per
   * layer for AdaRound, per unit for BRECQ (plus its activation phase when activations are
   * quantized) and QDrop (with its keep probability when activations are quantized, the only case
   * that drops).
   */
  public static String iterations(ReconConfig rc) {
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
  public static boolean qdropDropping(ReconConfig rc) {
    return rc.method() == Method.QDROP && rc.quantizeActivations();
  }

  /** Whether BRECQ's second phase (learning the activation steps) runs. */
  public static boolean brecqActivationPhase(ReconConfig rc) {
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

  /**
   * A setting valid on its own that does not fit the model or data it is used with (more
   * calibration images than training images); the command line reports it as a usage error.
   */
  public static final class InputMismatch extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    InputMismatch(String message) {
      super(message);
    }
  }

  /** Named construction of a {@link QuantizationRun}; {@link #build} validates. */
  public static final class Builder {
    private final Path modelFile;
    private final String arch;
    private final String dataset;
    private Path dataDir;
    private ReconConfig recon;
    private Method method;
    private int wbits;
    private int abits;
    private Integer iters;
    private Long seed;
    private Double roundLambda;
    private int calib = 1024;
    private NumericsConfig numerics = NumericsConfig.defaults();
    private int evalLimit;
    private Double knownFpTop1;
    private Map<String, Integer> layerBits = Map.of();
    private Path out;
    private boolean resume;
    private WeightPhase reuseWeightPhase;
    private RunListener listener = RunListener.NONE;

    private Builder(Path modelFile, String arch, String dataset) {
      this.modelFile = modelFile;
      this.arch = arch;
      this.dataset = dataset;
    }

    /** The dataset folder; default: the embedded copy, where there is one. */
    public Builder dataDir(Path dir) {
      dataDir = dir;
      return this;
    }

    /**
     * Method and bit widths (weights 2..8, activations 2..8 or 32 = FP), with the defaults of
     * ALGORITHMS.md and the architecture's λ for every other setting.
     */
    public Builder method(Method m, int weightBits, int activationBits) {
      method = m;
      wbits = weightBits;
      abits = activationBits;
      return this;
    }

    /**
     * Iterations per unit (BRECQ's activation phase: a quarter of them, at least 1); default
     * 20,000.
     */
    public Builder iters(int v) {
      iters = v;
      return this;
    }

    /** Run seed (minibatches, QDrop masks); default 1005. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** Rounding-regulariser weight λ; default the architecture's. */
    public Builder roundLambda(double v) {
      roundLambda = v;
      return this;
    }

    /**
     * Every reconstruction setting at once, used as given (λ included), instead of
     * {@link #method}, {@link #iters}, {@link #seed} and {@link #roundLambda}.
     */
    public Builder recon(ReconConfig c) {
      recon = c;
      return this;
    }

    /** Calibration images: the first {@code n} training images in file order; default 1,024. */
    public Builder calibration(int n) {
      calib = n;
      return this;
    }

    /** Threads and vector width; they never change a result. Default: all processors. */
    public Builder numerics(NumericsConfig c) {
      numerics = c;
      return this;
    }

    /** Worker threads (other numerics settings unchanged). */
    public Builder threads(int n) {
      numerics = numerics.withThreads(n);
      return this;
    }

    /** Evaluate on the first {@code n} test images only; 0 (default) = all. */
    public Builder evalLimit(int n) {
      evalLimit = n;
      return this;
    }

    /**
     * The FP model's top-1 (%) on the same test images, when already measured: skips that
     * evaluation (a series of runs of one model).
     */
    public Builder knownFpTop1(double top1) {
      knownFpTop1 = top1;
      return this;
    }

    /**
     * Weight bits per layer name, overriding the uniform width for the layers named (mixed
     * precision), in the order of the model's layers; default none.
     */
    public Builder layerBits(Map<String, Integer> bits) {
      layerBits = bits;
      return this;
    }

    /**
     * Output folder for the checkpoint, quantized.safetensors, result.json and manifest.json;
     * default none (nothing is written, no checkpoint).
     */
    public Builder out(Path dir) {
      out = dir;
      return this;
    }

    /** Continue the run whose checkpoint is in the output folder. */
    public Builder resume(boolean v) {
      resume = v;
      return this;
    }

    /**
     * Start from the finished weight phase of an earlier AdaRound or BRECQ run
     * ({@link Result#weightPhase}) instead of learning it again; that run must differ from this
     * one in the activation bits at most (same model file, architecture, calibration images,
     * other settings and per-layer bits), else {@link #build()}'s run fails naming the mismatch.
     * The result has the same bits as a run from scratch (ALGORITHMS.md §4.1, §4.3: the weight
     * phase runs with unquantized activations). Default none.
     */
    public Builder reuseWeightPhase(WeightPhase phase) {
      reuseWeightPhase = phase;
      return this;
    }

    /** Progress events; default none. */
    public Builder listener(RunListener l) {
      listener = l;
      return this;
    }

    /**
     * The run.
     *
     * @throws IllegalArgumentException naming the first setting that is missing or out of range
     */
    public QuantizationRun build() {
      Check.arg(modelFile != null, "the model file is required");
      Check.arg(arch != null, "the architecture is required");
      Check.arg(dataset != null, "the dataset is required");
      Check.arg(calib >= 1, "--calib must be >= 1, got %d", calib);
      Check.arg(evalLimit >= 0, "--eval-limit must be >= 0, got %d", evalLimit);
      Check.arg(numerics != null && listener != null && layerBits != null,
          "numerics, listener and layer bits must not be null");
      Check.arg(!resume || out != null, "resume needs the output folder of the run");
      Check.arg(!resume || reuseWeightPhase == null,
          "resume and reuseWeightPhase exclude each other");
      ReconConfig rc;
      if (recon != null) {
        Check.arg(method == null && iters == null && seed == null && roundLambda == null,
            "give either recon(...) or method, iters, seed and roundLambda, not both");
        rc = recon;
      } else {
        Check.arg(method != null, "the method is required: method(...) or recon(...)");
        int it = iters == null ? 20_000 : iters;
        ReconConfig.Builder b = ReconConfig.builder(method, wbits, abits).iters(it)
            .itersAct(Math.max(1, it / 4))
            .roundLambda(roundLambda != null ? roundLambda
                : Architectures.get(arch).roundLambda());
        if (seed != null) {
          b.seed(seed);
        }
        rc = b.build();
      }
      return new QuantizationRun(this, rc);
    }
  }
}
