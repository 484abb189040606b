package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** {@code qlimit mixed-sweep} end to end on a tiny budget. */
class MixedSweepCommandTest extends QuietTest {

  @Test
  void aBudgetThatKeepsUniformReusesTheUniformRun(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sweep");
    CliRun r = CliRun.of("mixed-sweep", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,8", "--uniform", "2", "--avg-wbits-list", "2.2",
        "--min-gain", "0.999", "--iters", "1", "--calib", "8", "--eval-limit", "20",
        "--threads", "1", "--cache-dir", dir.resolve("cache").toString(), "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    assertThat(r.out()).contains("kept uniform W2").contains("its run is reused");
    JsonNode sweep = new ObjectMapper().readTree(out.resolve("sweep.json").toFile());
    assertThat(sweep.get("runs")).hasSize(2);
    JsonNode uniform = sweep.get("runs").get(0);
    JsonNode mixed = sweep.get("runs").get(1);
    assertThat(mixed.get("kind").asText()).isEqualTo("mixed");
    assertThat(mixed.get("top1").asDouble()).isEqualTo(uniform.get("top1").asDouble());
    assertThat(mixed.get("size_mb").asDouble()).isEqualTo(uniform.get("size_mb").asDouble());
    JsonNode m = new ObjectMapper().readTree(out.resolve("mixed-avg2.2/result.json").toFile());
    JsonNode u = new ObjectMapper().readTree(out.resolve("uniform-w2/result.json").toFile());
    assertThat(m.get("reused_run").asText()).isEqualTo("uniform-w2");
    assertThat(m.get("quantized_sha256").asText()).isEqualTo(u.get("quantized_sha256").asText());
    assertThat(m.get("search").get("kept_uniform").asBoolean()).isTrue();
    assertThat(Files.size(out.resolve("sweep.png"))).isPositive();
  }
}
