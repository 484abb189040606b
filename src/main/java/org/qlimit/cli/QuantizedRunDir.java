package org.qlimit.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.qlimit.data.Datasets;
import org.qlimit.data.TextDatasets;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.QuantExport;
import org.qlimit.util.Hashing;

/**
 * A folder written by {@code qlimit quantize} (or {@code mixed}, {@code demo}), read back for
 * {@code eval --integer}, {@code export} and {@code trace}: manifest.json names the FP model file
 * ({@code config.model}, checked against {@code checksums.model_sha256} when the manifest has
 * it), the architecture and the dataset ({@code config.arch}, {@code config.dataset},
 * {@code config.data_dir}); quantized.safetensors holds the quantization
 * ({@link QuantExport#read}); result.json gives the method and bit widths for labels. Every
 * missing or malformed piece is a one-line IllegalArgumentException naming the file and what is
 * wrong (exit code 1).
 *
 * @param dir the run folder
 * @param modelFile the FP checkpoint (from the manifest, or the override)
 * @param arch architecture name
 * @param dataset dataset name
 * @param dataDir dataset folder from the manifest or the override, or null for the default
 * @param label e.g. {@code qdrop W4A4}, or the folder name when result.json says nothing
 */
record QuantizedRunDir(Path dir, Path modelFile, String arch, String dataset, Path dataDir,
    String label) {

  static final String MANIFEST = "manifest.json";
  static final String QUANTIZED = "quantized.safetensors";
  static final String RESULT = "result.json";

  /**
   * Reads the folder's manifest.
   *
   * @param modelOverride the FP checkpoint to use instead of the manifest's, or null
   * @param dataDirOverride the dataset folder to use instead of the manifest's, or null
   */
  static QuantizedRunDir read(Path dir, Path modelOverride, Path dataDirOverride)
      throws IOException {
    if (!Files.exists(dir)) {
      throw new IllegalArgumentException("run folder not found: " + dir);
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is a file, not a run folder (the --out folder "
          + "of 'qlimit quantize')");
    }
    for (String f : new String[] {MANIFEST, QUANTIZED}) {
      if (!Files.isRegularFile(dir.resolve(f))) {
        throw new IllegalArgumentException("run folder " + dir + " has no " + f + " (not a "
            + "finished 'qlimit quantize' run)");
      }
    }
    Path mf = dir.resolve(MANIFEST);
    JsonNode m = json(mf);
    JsonNode cfg = m.path("config");
    String arch = text(mf, cfg, "arch");
    String dataset = text(mf, cfg, "dataset");
    if (!Datasets.isKnown(dataset) && !TextDatasets.isKnown(dataset)) {
      throw new IllegalArgumentException(mf + ": unknown dataset '" + dataset + "'");
    }
    Path model = modelOverride != null ? modelOverride : Path.of(text(mf, cfg, "model"));
    if (!Files.isRegularFile(model)) {
      throw new IllegalArgumentException("model file " + model + (modelOverride != null ? ""
          : " named by " + mf) + " not found; pass --model FILE");
    }
    String want = m.path("checksums").path("model_sha256").asText("");
    if (!want.isEmpty()) {
      String got = Hashing.sha256(model);
      if (!got.equals(want)) {
        throw new IllegalArgumentException("model file " + model + " has SHA-256 "
            + got.substring(0, 12) + "…, but " + mf + " was quantized from "
            + want.substring(0, Math.min(12, want.length())) + "…");
      }
    }
    Path dataDir = dataDirOverride;
    if (dataDir == null) {
      String d = cfg.path("data_dir").asText("null");
      dataDir = d.equals("null") || d.isEmpty() ? null : Path.of(d);
    }
    String label = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
    Path rf = dir.resolve(RESULT);
    if (Files.isRegularFile(rf)) {
      JsonNode r = json(rf);
      if (r.has("method") && r.has("wbits") && r.has("abits")) {
        label = r.get("method").asText() + " W" + r.get("wbits").asText() + "A"
            + r.get("abits").asText();
      }
    }
    return new QuantizedRunDir(dir, model, arch, dataset, dataDir, label);
  }

  /**
   * Refuses a run of a BERT-layout encoder (a text data set) for a command that runs image
   * classifiers only, with a one-line error naming the run folder.
   *
   * @param what the command's part, e.g. {@code "the integer reference path"}
   */
  void requireImageClassifier(String what) {
    if (TextDatasets.isKnown(dataset)) {
      throw new IllegalArgumentException(what + " covers convolutional image classifiers; run "
          + "folder " + dir + " quantizes " + arch + " on " + dataset + " (a BERT-layout "
          + "encoder), whose fake-quantized accuracy is in its result.json");
    }
  }

  /** The FP model (BatchNorm folded) and its quantization from quantized.safetensors. */
  QuantState load() throws IOException {
    return loadWithHash().state();
  }

  /**
   * {@link #load}, with the run's {@code quantized_sha256} from quantized.safetensors' metadata
   * ("" when it has none).
   */
  Loaded loadWithHash() throws IOException {
    Model model = Architectures.load(arch, modelFile);
    SafeTensorsFile f = SafeTensors.read(dir.resolve(QUANTIZED));
    return new Loaded(QuantExport.read(f, model),
        f.metadata().getOrDefault("quantized_sha256", ""));
  }

  /**
   * @param state the quantized model
   * @param sha256 quantized_sha256 from quantized.safetensors' metadata, or ""
   */
  record Loaded(QuantState state, String sha256) {}

  private static JsonNode json(Path f) throws IOException {
    try {
      return new ObjectMapper().readTree(f.toFile());
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(f + ": not valid JSON (line "
          + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")");
    }
  }

  private static String text(Path f, JsonNode cfg, String key) {
    JsonNode v = cfg.get(key);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw new IllegalArgumentException(f + ": config." + key + " is missing");
    }
    return v.asText();
  }
}
