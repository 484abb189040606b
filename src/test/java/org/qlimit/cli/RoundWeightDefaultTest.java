package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.model.Architectures;
import org.qlimit.testing.QuietTest;

/**
 * The rounding-regulariser weight λ: each architecture's default (the references' per-model
 * settings) is used when {@code --round-weight} is not given, and the option overrides it.
 */
class RoundWeightDefaultTest extends QuietTest {

  @ParameterizedTest
  @CsvSource({"resnet20-fmnist, 0.01", "resnet56, 0.01", "resnet50, 0.01",
      "regnetx-small-fmnist, 0.01", "mobilenetv2, 0.1", "mobilenetv2-small-fmnist, 0.1",
      "mobilenetv2-small-cifar10, 0.1", "mnasnet-small-fmnist, 0.2"})
  void familyDefaults(String arch, double lambda) {
    assertThat(Architectures.get(arch).roundLambda()).isEqualTo(lambda);
  }

  private static JsonNode recon(Path out) throws Exception {
    return new ObjectMapper().readTree(out.resolve("manifest.json").toFile())
        .path("config").path("recon");
  }

  private static CliRun quantize(Path out, String... extra) {
    String[] base = {"quantize", "--model", "datasets/models/mobilenetv2_small_fmnist.safetensors",
        "--arch", "mobilenetv2-small-fmnist", "--data", "fashion-mnist", "--method", "adaround",
        "--wbits", "4", "--abits", "32", "--iters", "1", "--calib", "8", "--eval-limit", "16",
        "--threads", "1", "--out", out.toString()};
    return CliRun.of(base, extra);
  }

  @Test
  void quantizeUsesTheArchitecturesLambdaUnlessGivenOne(@TempDir Path dir) throws Exception {
    CliRun byArch = quantize(dir.resolve("default"));
    assertThat(byArch.code()).as(byArch.err()).isZero();
    assertThat(byArch.out()).contains("λ 0.1,");
    assertThat(recon(dir.resolve("default")).path("roundLambda").asDouble()).isEqualTo(0.1);

    CliRun given = quantize(dir.resolve("given"), "--round-weight", "0.05");
    assertThat(given.code()).as(given.err()).isZero();
    assertThat(given.out()).contains("λ 0.05,");
    assertThat(recon(dir.resolve("given")).path("roundLambda").asDouble()).isEqualTo(0.05);
  }

  @Test
  void archsListsTheLambda() {
    CliRun r = CliRun.of("archs");
    assertThat(r.code()).isZero();
    assertThat(r.out()).containsPattern("mnasnet-small-fmnist\\s+fashion-mnist\\s+λ 0\\.2 ");
    assertThat(r.out()).containsPattern("resnet20-fmnist\\s+fashion-mnist\\s+λ 0\\.01 ");
  }
}
