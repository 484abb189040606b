package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.model.Architectures;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit eval --integer RUN_DIR} on a tiny RTN W4A4 run of the embedded ResNet-20: the
 * report, and one-line errors for run folders that are missing, incomplete or malformed.
 */
class EvalIntegerCommandTest extends QuietTest {
  private static final String MODEL = "datasets/models/resnet20_fmnist.safetensors";

  @TempDir static Path tmp;
  private static Path run;

  @BeforeAll
  static void quantize() {
    run = tmp.resolve("run");
    CliRun r = CliRun.of("quantize", "--model", MODEL, "--arch", "resnet20-fmnist", "--data",
        "fashion-mnist", "--method", "rtn", "--wbits", "4", "--abits", "4", "--calib", "8",
        "--eval-limit", "4", "--threads", "2", "--out", run.toString());
    assertThat(r.code()).as(r.err()).isZero();
  }

  @Test
  void reportsBothTop1sAndEverySite() throws IOException {
    CliRun r = CliRun.of("eval", "--integer", run.toString(), "--limit", "6", "--threads", "2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).contains("resnet20-fmnist rtn W4A4").contains("6 images")
        .containsPattern("integer top-1 [0-9.]+ % \\(\\d/6\\); fake-quantized top-1 [0-9.]+ % "
            + "\\(\\d/6\\); same prediction on \\d/6 images")
        .contains("input image quantized at 8 bits: step 0.0111093, zero point 73");
    for (String site : Architectures.load("resnet20-fmnist", Path.of(MODEL)).actSites()) {
      assertThat(r.out()).containsPattern("(?m)^" + java.util.regex.Pattern.quote(site)
          + " +[48] +\\d+ ");
    }
  }

  private static void oneLineError(CliRun r, int code, String... parts) {
    assertThat(r.code()).as(r.err()).isEqualTo(code);
    assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("internal error")
        .contains(parts);
  }

  @Test
  void aMissingRunFolderIsNamed() {
    oneLineError(CliRun.of("eval", "--integer", tmp.resolve("nope").toString()), 1,
        "run folder not found: " + tmp.resolve("nope"));
  }

  @Test
  void aFolderWithoutItsFilesIsNamed() throws IOException {
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    oneLineError(CliRun.of("eval", "--integer", empty.toString()), 1, "run folder " + empty
        + " has no manifest.json");
    Path half = Files.createDirectories(tmp.resolve("half"));
    Files.copy(run.resolve("manifest.json"), half.resolve("manifest.json"));
    oneLineError(CliRun.of("eval", "--integer", half.toString()), 1,
        "has no quantized.safetensors");
  }

  @Test
  void malformedFilesAreNamed() throws IOException {
    Path bad = Files.createDirectories(tmp.resolve("bad"));
    Files.writeString(bad.resolve("manifest.json"), "{\"config\": {");
    Files.writeString(bad.resolve("quantized.safetensors"), "x");
    oneLineError(CliRun.of("eval", "--integer", bad.toString()), 1,
        bad.resolve("manifest.json") + ": not valid JSON");
    Files.writeString(bad.resolve("manifest.json"), "{\"config\": {\"model\": \"" + MODEL
        + "\", \"dataset\": \"fashion-mnist\"}}");
    oneLineError(CliRun.of("eval", "--integer", bad.toString()), 1, "config.arch is missing");
    Files.copy(run.resolve("manifest.json"), bad.resolve("manifest.json"),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    oneLineError(CliRun.of("eval", "--integer", bad.toString()), 1,
        "quantized.safetensors");
  }

  @Test
  void aMovedModelFileAsksForModel() throws IOException {
    Path moved = Files.createDirectories(tmp.resolve("moved"));
    Files.copy(run.resolve("quantized.safetensors"), moved.resolve("quantized.safetensors"));
    Files.writeString(moved.resolve("manifest.json"), Files.readString(run.resolve(
        "manifest.json")).replace(MODEL, "gone/model.safetensors"));
    oneLineError(CliRun.of("eval", "--integer", moved.toString()), 1,
        "model file gone/model.safetensors named by", "not found; pass --model FILE");
    oneLineError(CliRun.of("eval", "--integer", moved.toString(), "--model",
        "datasets/models/mobilenetv2_small_fmnist.safetensors"), 1, "has SHA-256",
        "was quantized from");
  }

  @Test
  void usageErrorsExitWithTwo() {
    oneLineError(CliRun.of("eval", "--integer", run.toString(), "--arch", "resnet20-fmnist"), 2,
        "--integer reads the architecture and the dataset from RUN_DIR/manifest.json; drop "
            + "--arch");
    oneLineError(CliRun.of("eval"), 2, "Missing required options: '--model', '--arch', "
        + "'--data' (or --integer RUN_DIR)");
    oneLineError(CliRun.of("eval", "--integer", run.toString(), "--limit", "-1"), 2,
        "--limit must be >= 0");
  }
}
