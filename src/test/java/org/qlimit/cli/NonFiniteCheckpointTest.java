package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.testing.QuietTest;

/**
 * Issue 13, part 1: a checkpoint with a NaN, ±Inf or negative BatchNorm variance is rejected at
 * load by {@code eval} and {@code quantize} with a one-line error naming the file, the tensor and
 * the first bad index (exit 1, nothing written to --out); subnormal values are finite and
 * accepted. The inputs, then a fuzz over deterministic positions of the embedded
 * ResNet-20. Every run: eval on 20 test images, RTN W4A4 on 8 calibration images.
 */
class NonFiniteCheckpointTest extends QuietTest {
  private static final Path MODEL = Path.of("datasets/models/resnet20_fmnist.safetensors");
  private static SafeTensorsFile clean;

  @BeforeAll
  static void load() throws Exception {
    clean = SafeTensors.read(MODEL);
  }

  /** A copy of the embedded model with element {@code index} of {@code tensor} set to value. */
  private static Path mutate(Path dir, String tensor, int index, float value) throws Exception {
    List<TensorEntry> entries = new ArrayList<>();
    for (TensorEntry e : clean.entries()) {
      if (e.name().equals(tensor)) {
        float[] v = e.asFloats();
        v[index] = value;
        e = TensorEntry.f32(e.name(), e.shape(), v);
      }
      entries.add(e);
    }
    Path file = dir.resolve("m-" + tensor + "-" + index + "-"
        + Integer.toHexString(Float.floatToRawIntBits(value)) + ".safetensors");
    SafeTensors.write(file, entries, clean.metadata());
    return file;
  }

  private static CliRun eval(Path model) {
    return CliRun.of("eval", "--model", model.toString(), "--arch", "resnet20-fmnist", "--data",
        "fashion-mnist", "--limit", "20", "--threads", "1");
  }

  private static CliRun quantize(Path model, Path out) {
    return CliRun.of("quantize", "--model", model.toString(), "--arch", "resnet20-fmnist",
        "--data", "fashion-mnist", "--method", "rtn", "--wbits", "4", "--abits", "4",
        "--iters", "1", "--calib", "8", "--eval-limit", "20", "--threads", "1",
        "--out", out.toString());
  }

  /** The summary line of eval ("... FP32 top-1 X % (c/n)"). */
  private static String top1Line(String out) {
    for (String line : out.split("\n")) {
      if (line.contains("FP32 top-1")) {
        return line.strip();
      }
    }
    throw new AssertionError("no top-1 line in: " + out);
  }

  /** Exit 1, one line on stderr that names the file, the tensor and the index; no trace. */
  private static void assertRejected(CliRun r, Path model, String message) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    String err = r.err().strip();
    assertThat(err).doesNotContain("\n").doesNotContain("internal error")
        .doesNotContain("Exception")
        .contains(": error: " + model + ": " + message);
  }

  private static void assertRejectedByBoth(Path dir, String tensor, int index, float value,
      String message) throws Exception {
    Path m = mutate(dir, tensor, index, value);
    assertRejected(eval(m), m, message);
    Path out = dir.resolve("out-" + m.getFileName());
    assertRejected(quantize(m, out), m, message);
    assertThat(out).doesNotExist();
  }

  @Test
  void nanInAConvolutionWeight(@TempDir Path dir) throws Exception {
    assertRejectedByBoth(dir, "layer2.1.conv1.weight", 868, Float.NaN,
        "tensor layer2.1.conv1.weight has NaN at index 868 (element [3, 0, 1, 1] of shape "
            + "[32, 32, 3, 3])");
  }

  @Test
  void infinityInAConvolutionWeight(@TempDir Path dir) throws Exception {
    assertRejectedByBoth(dir, "layer2.1.conv1.weight", 868, Float.POSITIVE_INFINITY,
        "tensor layer2.1.conv1.weight has +Inf at index 868");
    assertRejectedByBoth(dir, "conv1.weight", 0, Float.NEGATIVE_INFINITY,
        "tensor conv1.weight has -Inf at index 0");
  }

  @Test
  void negativeBatchNormRunningVariance(@TempDir Path dir) throws Exception {
    assertRejectedByBoth(dir, "layer2.1.bn1.running_var", 5, -0.5f,
        "tensor layer2.1.bn1.running_var has a negative variance -0.5 at index 5");
  }

  @Test
  void nanInTheClassifierBias(@TempDir Path dir) throws Exception {
    assertRejectedByBoth(dir, "fc.bias", 3, Float.NaN, "tensor fc.bias has NaN at index 3");
  }

  /**
   * A subnormal is accepted and acts as the tiny number it is: here a running variance of
   * 1.4e-45, which (plus BatchNorm's ε = 1e-5) folds exactly as a variance of 0 does.
   */
  @Test
  void subnormalValuesAreAccepted(@TempDir Path dir) throws Exception {
    CliRun r = eval(mutate(dir, "layer1.0.bn1.running_var", 2, Float.MIN_VALUE));
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    assertThat(r.err()).isEmpty();
    CliRun zero = eval(mutate(dir, "layer1.0.bn1.running_var", 2, 0f));
    assertThat(top1Line(r.out())).isEqualTo(top1Line(zero.out()));
  }

  /**
   * Deterministic fuzz: eight positions drawn with a fixed seed over every tensor, then four over
   * the running variances, each set to NaN, ±Inf, a positive or a negative subnormal, or a
   * negative variance. Every eval and quantize run ends either in a result (exit 0: eval gives
   * the top-1 of the same file with the subnormal replaced by zero, quantize finite numbers
   * everywhere) or in the one-line load error naming the tensor (exit 1, no --out folder).
   */
  @Test
  void fuzzedCheckpointsEndInAResultOrAOneLineError(@TempDir Path dir) throws Exception {
    float[] values = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
        Float.MIN_VALUE, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -1e-40f};
    List<String> names = clean.names();
    List<String> variances = names.stream().filter(n -> n.endsWith("running_var")).toList();
    SplittableRandom rng = new SplittableRandom(1005);
    ObjectMapper json = new ObjectMapper();
    int accepted = 0;
    int rejected = 0;
    for (int i = 0; i < 12; i++) {
      // 8 positions over all tensors (values in turn), then 4 negative running variances
      String tensor = i < 8 ? names.get(rng.nextInt(names.size()))
          : variances.get(rng.nextInt(variances.size()));
      int index = rng.nextInt((int) clean.get(tensor).size());
      float value = i < 8 ? values[i] : (i % 2 == 0 ? -1f : -Float.MIN_VALUE);
      boolean bad = !Float.isFinite(value) || (tensor.endsWith("running_var") && value < 0f);
      Path m = mutate(dir, tensor, index, value);
      Path out = dir.resolve("out-" + i);
      CliRun e = eval(m);
      CliRun q = quantize(m, out);
      String what = tensor + "[" + index + "] = " + value;
      assertThat(q.err()).as(what).doesNotContain("Exception").doesNotContain("\tat ");
      if (bad) {
        rejected++;
        assertRejected(e, m, "tensor " + tensor + " has ");
        assertRejected(q, m, "tensor " + tensor + " has ");
        assertThat(e.err()).as(what).contains(" at index " + index);
        assertThat(out).as(what).doesNotExist();
      } else {
        accepted++;
        assertThat(e.code()).as(what + ": " + e.err()).isEqualTo(0);
        CliRun zero = eval(mutate(dir, tensor, index, 0f));
        assertThat(top1Line(e.out())).as(what).isEqualTo(top1Line(zero.out()));
        assertThat(q.code()).as(what + ": " + q.err()).isEqualTo(0);
        JsonNode result = json.readTree(out.resolve("result.json").toFile());
        assertThat(result.get("top1").isNumber()).as(what).isTrue();
        assertThat(result.get("fp_top1").isNumber()).as(what).isTrue();
        SafeTensorsFile qf = SafeTensors.read(out.resolve("quantized.safetensors"));
        for (TensorEntry t : qf.entries()) {
          if (t.dtype().isFloating()) {
            for (float v : t.asFloats()) {
              assertThat(Float.isFinite(v)).as("%s: %s", what, t.name()).isTrue();
            }
          }
        }
      }
    }
    assertThat(accepted).isGreaterThanOrEqualTo(1);
    assertThat(rejected).isGreaterThanOrEqualTo(10);
  }
}
