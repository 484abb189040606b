package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.recon.UnitRecord;
import org.qlimit.run.RunCheckpoint;
import org.qlimit.testing.QuietTest;

/**
 * What {@code quantize} prints and records states what was used: the images the activation
 * ranges came from (fewer than the method's count when the calibration set is smaller), the
 * iterations each method runs (none for RTN), and the first layer that BRECQ and AdaRound leave
 * as it is ("skipped" with the reason, no losses).
 */
class LogLinesTest extends QuietTest {
  private static final ObjectMapper OM = new ObjectMapper();

  private static CliRun quantize(Path out, String method, String calib, String abits) {
    return CliRun.of("quantize", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", method, "--wbits",
        "2", "--abits", abits, "--iters", "1", "--calib", calib, "--eval-limit", "8",
        "--threads", "2", "--out", out.toString());
  }

  private static JsonNode result(Path out) throws Exception {
    return OM.readTree(out.resolve("result.json").toFile());
  }

  @Test
  void brecqStatesItsImagesItsPhasesAndTheSkippedFirstLayer(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("brecq");
    CliRun r = quantize(out, "brecq", "8", "4");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out())
        .contains("W2A4, 1 iters/unit + 1 activation iters/unit, λ 0.01, 8 calibration images")
        .contains("  activation ranges (shrink-Lp, sequential, 8 images (all there are; the "
            + "method uses up to 64))\n")
        .containsPattern("conv1 +weights +skipped: first layer: 8-bit weights with nearest "
            + "rounding, not reconstructed");
    JsonNode json = result(out);
    JsonNode first = json.get("units").get(0);
    assertThat(first.get("unit").asText()).isEqualTo("conv1");
    assertThat(first.get("skipped").asText())
        .isEqualTo("first layer: 8-bit weights with nearest rounding, not reconstructed");
    assertThat(first.has("loss_before")).isFalse();
    assertThat(first.has("loss_after")).isFalse();
    JsonNode second = json.get("units").get(1);
    assertThat(second.has("skipped")).isFalse();
    assertThat(second.get("loss_before").isNumber()).isTrue();
    assertThat(json.get("iters").asInt()).isEqualTo(1);
    assertThat(json.get("iters_act").asInt()).isEqualTo(1);
    assertThat(json.has("keep_prob")).isFalse();
  }

  @Test
  void qdropStatesTheImagesItCalibratedOn(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("qdrop");
    CliRun r = quantize(out, "qdrop", "8", "4");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("W2A4, 1 iters/unit, keep prob 0.5, λ 0.01")
        .contains("  activation ranges (grid-Lp on FP activations, 8 images (all there are; the "
            + "method uses up to 256))\n")
        .doesNotContain("256 images");
    JsonNode json = result(out);
    assertThat(json.get("keep_prob").asDouble()).isEqualTo(0.5);
    assertThat(json.has("iters_act")).isFalse();
  }

  @Test
  void rtnRunsNoIterationsAndUsesAtMost64Images(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("rtn");
    CliRun r = quantize(out, "rtn", "100", "4");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("W2A4, no iterations (nearest rounding), 100 calibration images")
        .doesNotContain("iters/unit")
        .contains("  activation ranges (shrink-Lp, sequential, 64 images)\n");
    JsonNode json = result(out);
    assertThat(json.get("iters").asInt()).isZero();
    assertThat(json.has("iters_act")).isFalse();
    assertThat(json.get("units")).isEmpty();
  }

  @Test
  void optionsTheMethodDoesNotUseAreNamed(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    CliRun r = CliRun.of("quantize", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop", "--wbits",
        "4", "--abits", "32", "--iters", "1", "--calib", "4", "--eval-limit", "4", "--drop-prob",
        "0.3", "--iters-act", "7", "--threads", "2", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("note: --keep-prob is used by qdrop with quantized activations "
            + "only (--abits below 32); ignored\n")
        .contains("note: --iters-act is used by brecq's activation phase only (brecq with "
            + "--abits below 32); ignored\n")
        .contains("W4A32, 1 iters/unit, no dropping (activations not quantized), λ 0.01");
    assertThat(result(out).has("keep_prob")).isFalse();
  }

  @Test
  void checkpointRecordsKeepTheSkipReason() {
    List<UnitRecord> records = List.of(UnitRecord.skipped("conv1", "weights", "first layer: x"),
        new UnitRecord("layer1.0", "weights", 5, 0.25, 0.125, 1.5));
    List<UnitRecord> back = RunCheckpoint.decode(RunCheckpoint.encode(records));
    assertThat(back).hasSize(2);
    assertThat(back.get(0).skipped()).isEqualTo("first layer: x");
    assertThat(back.get(0).lossBefore()).isNaN();
    assertThat(back.get(1)).isEqualTo(records.get(1));
    // a record written before skip reasons existed (six fields) reads as a unit that ran
    assertThat(RunCheckpoint.decode("fc\tjoint\t3\t3ff0000000000000\t0\t0\n").get(0).isSkipped())
        .isFalse();
  }
}
