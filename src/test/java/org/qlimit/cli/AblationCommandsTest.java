package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * The papers' ablations from the command line at a tiny budget: {@code quantize --granularity}
 * and {@code --loss} are recorded in result.json; {@code probe flatness} writes its JSON and
 * plot, the same bits at 1 and 2 threads, and a missing run folder is a one-line error.
 * (Invalid values: {@link InvalidOptionValuesTest}.)
 */
class AblationCommandsTest extends QuietTest {
  private static final String[] MODEL_DATA = {"--model",
      "datasets/models/resnet20_fmnist.safetensors", "--arch", "resnet20-fmnist", "--data",
      "fashion-mnist"};

  private static CliRun quantize(Path out, String method, String... extra) {
    String[] base = {"quantize", MODEL_DATA[0], MODEL_DATA[1], MODEL_DATA[2], MODEL_DATA[3],
        MODEL_DATA[4], MODEL_DATA[5], "--method", method, "--wbits", "2", "--abits", "4",
        "--iters", "2", "--calib", "8", "--eval-limit", "8", "--threads", "1", "--out",
        out.toString()};
    return CliRun.of(base, extra);
  }

  private static CliRun probe(Path out, int threads, Path... runs) {
    java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("probe", "flatness"));
    a.addAll(java.util.List.of(MODEL_DATA));
    for (Path r : runs) {
      a.add("--run");
      a.add(r.toString());
    }
    a.addAll(java.util.List.of("--eval-limit", "16", "--repeats", "2", "--magnitudes", "0,1",
        "--threads", Integer.toString(threads), "--out", out.toString()));
    return CliRun.of(a.toArray(String[]::new));
  }

  @Test
  void granularityLossAndFlatness(@TempDir Path dir) throws Exception {
    ObjectMapper om = new ObjectMapper();
    Path stage = dir.resolve("brecq-stage");
    CliRun s = quantize(stage, "brecq", "--granularity", "stage", "--loss", "fisher-diag");
    assertThat(s.code()).as(s.err()).isZero();
    assertThat(s.out()).contains("granularity stage, loss fisher-diag");
    JsonNode sr = om.readTree(stage.resolve("result.json").toFile());
    assertThat(sr.get("granularity").asText()).isEqualTo("stage");
    assertThat(sr.get("loss").asText()).isEqualTo("fisher-diag");
    assertThat(sr.get("units").get(1).get("unit").asText()).isEqualTo("layer1.0..layer1.2");

    Path layer = dir.resolve("qdrop-layer");
    CliRun l = quantize(layer, "qdrop", "--granularity", "layer");
    assertThat(l.code()).as(l.err()).isZero();
    JsonNode lr = om.readTree(layer.resolve("result.json").toFile());
    assertThat(lr.get("granularity").asText()).isEqualTo("layer");
    assertThat(lr.get("loss").asText()).isEqualTo("mse");
    assertThat(lr.get("units")).hasSize(22);  // 19 convs + 2 shortcut convs + fc

    Path p1 = dir.resolve("probe1");
    CliRun a = probe(p1, 1, stage, layer);
    assertThat(a.code()).as(a.err()).isZero();
    JsonNode pr = om.readTree(p1.resolve("flatness.json").toFile());
    assertThat(pr.get("runs")).hasSize(2);
    JsonNode pts = pr.get("runs").get(0).get("points");
    assertThat(pts).hasSize(4);  // (activations, weights) × (0, 1)
    // ε = 0 is the quantized model itself, whatever the target
    assertThat(pts.get(0).get("loss").asDouble()).isEqualTo(pts.get(2).get("loss").asDouble());
    assertThat(pts.get(1).get("loss").asDouble()).isNotEqualTo(pts.get(0).get("loss").asDouble());
    assertThat(ImageIO.read(p1.resolve("flatness.png").toFile()).getWidth()).isEqualTo(1280);

    // the same probe at 2 threads, the model, architecture and data taken from the runs'
    // manifests: the same bytes
    Path p2 = dir.resolve("probe2");
    java.util.List<String> bare = new java.util.ArrayList<>(java.util.List.of("probe",
        "flatness", "--run", stage.toString(), "--run", layer.toString(), "--eval-limit", "16",
        "--repeats", "2", "--magnitudes", "0,1", "--threads", "2", "--out", p2.toString()));
    CliRun b = CliRun.of(bare.toArray(String[]::new));
    assertThat(b.code()).as(b.err()).isZero();
    assertThat(Files.readString(p2.resolve("flatness.json")))
        .isEqualTo(Files.readString(p1.resolve("flatness.json")));

    // an --arch that is not the runs' own is a one-line error
    java.util.List<String> wrong = new java.util.ArrayList<>(bare);
    wrong.set(wrong.indexOf(p2.toString()), dir.resolve("probe3").toString());
    wrong.addAll(java.util.List.of("--arch", "mobilenetv2-small-fmnist"));
    CliRun w = CliRun.of(wrong.toArray(String[]::new));
    assertThat(w.code()).isEqualTo(1);
    assertThat(w.err().strip()).doesNotContain("\n")
        .contains("--arch mobilenetv2-small-fmnist, but the runs quantize resnet20-fmnist");
    assertThat(dir.resolve("probe3")).doesNotExist();
  }

  @Test
  void aRunFolderWithoutAQuantizedModelIsAOneLineError(@TempDir Path dir) {
    Path out = dir.resolve("out");
    CliRun r = probe(out, 1, dir.resolve("nothing"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n")
        .startsWith("qlimit probe flatness: error: --run ")
        .contains("not a quantize --out folder");
    assertThat(out).doesNotExist();
  }
}
