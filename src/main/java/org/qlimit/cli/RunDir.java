package org.qlimit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.qlimit.data.Datasets;
import org.qlimit.io.MalformedFileException;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.QuantExport;

/**
 * A run folder written by {@code quantize} (or {@code mixed}, {@code demo}), read back with the
 * existing readers: manifest.json names the model file, architecture and dataset
 * ({@code config.model}, {@code config.arch}, {@code config.dataset}, {@code config.data_dir});
 * the model is loaded BatchNorm-folded ({@link Architectures#load}) and quantized.safetensors is
 * read into its quantization ({@link QuantExport#read}). Every missing or unreadable piece is a
 * {@link UsageError} naming the file and what is wrong.
 *
 * @param dir the run folder
 * @param arch architecture name
 * @param dataset dataset name
 * @param dataDir the data folder the run used, or null for the embedded data
 * @param sha256 the run's quantized_sha256 (from quantized.safetensors' metadata), or "" if absent
 * @param state the quantized model
 */
record RunDir(Path dir, String arch, String dataset, Path dataDir, String sha256,
    QuantState state) {

  static RunDir read(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new UsageError("run folder " + dir + " not found (give a folder written by 'qlimit "
          + "quantize')");
    }
    Path manifest = dir.resolve("manifest.json");
    Path quantized = dir.resolve("quantized.safetensors");
    for (Path p : new Path[] {manifest, quantized}) {
      if (!Files.isRegularFile(p)) {
        throw new UsageError("run folder " + dir + " has no " + p.getFileName()
            + " (is it a folder written by 'qlimit quantize'?)");
      }
    }
    JsonNode cfg;
    try {
      cfg = new ObjectMapper().readTree(manifest.toFile()).path("config");
    } catch (IOException e) {
      throw new UsageError(manifest + " is not valid JSON: " + firstLine(e.getMessage()));
    }
    String arch = text(cfg, "arch", manifest);
    String dataset = text(cfg, "dataset", manifest);
    Path model = Path.of(text(cfg, "model", manifest));
    if (!Files.isRegularFile(model)) {
      throw new UsageError(manifest + " names the model file " + model + ", which is not found"
          + " (paths are relative to the folder quantize ran in)");
    }
    String dd = cfg.path("data_dir").asText("null");
    Path dataDir = dd.equals("null") || dd.isEmpty() ? null : Path.of(dd);
    if (dataDir != null && !Files.isDirectory(dataDir)) {
      dataDir = null;
    }
    if (!Datasets.isKnown(dataset)) {
      throw new UsageError(manifest + ": unknown dataset '" + dataset + "'");
    }
    Model m;
    try {
      m = Architectures.load(arch, model);
    } catch (IllegalArgumentException e) {
      throw new UsageError(manifest + ": " + e.getMessage());
    }
    SafeTensorsFile f;
    try {
      f = SafeTensors.read(quantized);
    } catch (MalformedFileException e) {
      throw new UsageError(e.getMessage());
    }
    QuantState s;
    try {
      s = QuantExport.read(f, m);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
    String sha = f.metadata().getOrDefault("quantized_sha256", "");
    return new RunDir(dir, arch, dataset, dataDir, sha, s);
  }

  private static String text(JsonNode cfg, String key, Path manifest) {
    JsonNode n = cfg.get(key);
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw new UsageError(manifest + " has no config." + key);
    }
    return n.asText();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int i = s.indexOf('\n');
    return i < 0 ? s : s.substring(0, i);
  }
}
