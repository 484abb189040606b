package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.QuantExport;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit quantize --arch bert} writes a run folder like an image run's (RTN W8A8 on the
 * committed TREC model, 8 calibration sentences): quantized.safetensors reads back into the same
 * quantization (same quantized_sha256 as result.json), manifest.json names the model, the
 * architecture and the data set; {@code export} writes it as ONNX (float biases only); the
 * commands that cover image classifiers only (the integer path of {@code eval} and
 * {@code trace}, {@code trace}'s fake path) refuse the folder with a one-line error saying what
 * is unsupported.
 */
class BertRunFolderTest extends QuietTest {
  private static final String MODEL = "datasets/models/bert_trec/model.safetensors";

  @TempDir static Path tmp;
  private static Path run;

  @BeforeAll
  static void quantize() {
    run = tmp.resolve("run");
    CliRun r = CliRun.of("quantize", "--arch", "bert", "--data", "trec", "--model", MODEL,
        "--method", "rtn", "--wbits", "8", "--abits", "8", "--calib", "8", "--eval-limit", "10",
        "--threads", "2", "--out", run.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("quantized.safetensors, manifest.json");
  }

  @Test
  void theRunFolderReadsBackIntoTheSameQuantization() throws Exception {
    ObjectMapper om = new ObjectMapper();
    JsonNode result = om.readTree(run.resolve("result.json").toFile());
    String sha = result.get("quantized_sha256").asText();
    assertThat(sha).hasSize(64);
    SafeTensorsFile f = SafeTensors.read(run.resolve("quantized.safetensors"));
    assertThat(f.metadata()).containsEntry("quantized_sha256", sha)
        .containsEntry("method", "rtn").containsEntry("arch", "bert");
    Model m = Architectures.load("bert", Path.of(MODEL));
    QuantState s = QuantExport.read(f, m);
    assertThat(s.actsInOrder()).isNotEmpty();
    assertThat(QuantExport.sha256(s)).isEqualTo(sha);
    JsonNode cfg = om.readTree(run.resolve("manifest.json").toFile()).get("config");
    assertThat(cfg.get("model").asText()).isEqualTo(MODEL);
    assertThat(cfg.get("arch").asText()).isEqualTo("bert");
    assertThat(cfg.get("dataset").asText()).isEqualTo("trec");
    QuantizedRunDir d = QuantizedRunDir.read(run, null, null);
    assertThat(d.label()).isEqualTo("rtn W8A8");
    assertThat(QuantExport.sha256(d.load())).isEqualTo(sha);
  }

  private static void oneLineError(CliRun r, String... parts) {
    assertThat(r.code()).as(r.out()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("internal error")
        .contains(parts);
  }

  @Test
  void evalIntegerIsAOneLineError() {
    oneLineError(CliRun.of("eval", "--integer", run.toString(), "--limit", "2"),
        "the integer reference path covers convolutional image classifiers; run folder " + run
            + " quantizes bert on trec (a BERT-layout encoder)");
  }

  @Test
  void traceIsAOneLineErrorOnEitherPath() {
    Path out = tmp.resolve("t.safetensors");
    oneLineError(CliRun.of("trace", run.toString(), "--path", "integer", "--images", "2",
        "--out", out.toString()),
        "the integer reference path covers convolutional image classifiers; run folder " + run);
    oneLineError(CliRun.of("trace", run.toString(), "--images", "2", "--out", out.toString()),
        "qlimit trace covers convolutional image classifiers; run folder " + run);
    assertThat(out).doesNotExist();
  }

  @Test
  void exportsToOnnxAndInt32BiasesAreAOneLineError() throws Exception {
    Path out = tmp.resolve("m.onnx");
    CliRun r = CliRun.of("export", "--run", run.toString(), "--format", "onnx", "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("(bert, ONNX opset 17, ");
    assertThat(java.nio.file.Files.size(out)).isPositive();
    Path bad = tmp.resolve("b.onnx");
    oneLineError(CliRun.of("export", "--run", run.toString(), "--format", "onnx", "--bias",
        "int32", "--out", bad.toString()), "ONNX export: bert: INT32 biases cover the "
        + "convolutional image classifiers");
    assertThat(bad).doesNotExist();
  }
}
