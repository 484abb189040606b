package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** {@code qlimit mixed}: a budget no assignment meets ends in one clear line, before any work. */
class MixedCommandTest extends QuietTest {

  @Test
  void infeasibleBudgetIsAOneLineError(@TempDir Path dir) {
    CliRun r = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,4,8", "--size-budget-mb", "0.01", "--calib", "8",
        "--cache-dir", dir.resolve("cache").toString(), "--out", dir.resolve("out").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n")
        .startsWith("qlimit mixed: --size-budget-mb / --avg-wbits / --avg-wbits-list: budget "
            + "model size <= 0.0100 MB cannot be met")
        .contains("every searched layer at 2 bits").contains("raise the budget");
    assertThat(Files.exists(dir.resolve("cache"))).isFalse();
  }

  @Test
  void endToEndWritesTheAssignment(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    CliRun r = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,8", "--avg-wbits", "4", "--iters", "1", "--calib", "8",
        "--eval-limit", "20", "--threads", "1", "--cache-dir", dir.resolve("cache").toString(),
        "--out", out.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    JsonNode j = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertThat(j.get("wbits").asText()).isEqualTo("mixed");
    assertThat(j.get("assignment").size()).isEqualTo(22);
    assertThat(j.get("assignment").get("conv1").asInt()).isEqualTo(8);
    assertThat(j.get("assignment").get("fc").asInt()).isEqualTo(8);
    assertThat(j.get("size_bits").asLong()).isLessThanOrEqualTo(j.get("budget").get("limit")
        .asLong());
    assertThat(j.get("bitops").asLong()).isPositive();
    assertThat(j.get("search").get("check_ga_diagonal_only").asDouble())
        .isEqualTo(j.get("search").get("check_dp_diagonal_only").asDouble());
    assertThat(Files.size(out.resolve("bits.png"))).isPositive();
    assertThat(r.out()).contains("layer3.2.conv2").contains("wrote");
    // the memory estimate comes before the sensitivity measurement, the first long work
    assertThat(r.out()).contains("memory: reconstruction estimate");
    assertThat(r.out().indexOf("memory: reconstruction estimate"))
        .isLessThan(r.out().indexOf("sensitivities: measuring"));
    // the second run reads the cached sensitivities
    CliRun again = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,8", "--size-budget-mb", "0.2", "--iters", "1", "--calib", "8",
        "--eval-limit", "20", "--threads", "1", "--cache-dir", dir.resolve("cache").toString(),
        "--out", dir.resolve("out2").toString());
    assertThat(again.code()).as(again.err()).isEqualTo(0);
    assertThat(again.out()).contains("sensitivities: cached");
    // the searched assignment beats uniform W2 (the only uniform one that fits) by far more than
    // the default --min-gain, so it is the one reconstructed ...
    JsonNode search = j.get("search");
    assertThat(search.get("kept_uniform").asBoolean()).isFalse();
    assertThat(search.get("best_uniform_wbits").asInt()).isEqualTo(2);
    assertThat(search.get("searched_objective").asDouble())
        .isLessThan(0.9 * search.get("best_uniform_objective").asDouble());
    assertThat(search.get("searched_assignment").get("layer3.2.conv2").asInt())
        .isEqualTo(j.get("assignment").get("layer3.2.conv2").asInt());
    // ... and demanding a 99.9 % lower objective keeps uniform W2 instead.
    Path out3 = dir.resolve("out3");
    CliRun strict = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,8", "--avg-wbits", "4", "--min-gain", "0.999", "--iters", "1",
        "--calib", "8", "--eval-limit", "20", "--threads", "1", "--cache-dir",
        dir.resolve("cache").toString(), "--out", out3.toString());
    assertThat(strict.code()).as(strict.err()).isEqualTo(0);
    assertThat(strict.out()).contains("kept uniform W2");
    JsonNode k = new ObjectMapper().readTree(out3.resolve("result.json").toFile());
    assertThat(k.get("search").get("kept_uniform").asBoolean()).isTrue();
    assertThat(k.get("assignment").get("layer3.2.conv2").asInt()).isEqualTo(2);
    assertThat(k.get("assignment").get("layer1.0.conv1").asInt()).isEqualTo(2);
    assertThat(k.get("assignment").get("conv1").asInt()).isEqualTo(8);
  }

  @Test
  void exactlyOneBudget(@TempDir Path dir) {
    CliRun r = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop",
        "--avg-wbits", "3", "--bitops-budget", "1", "--out", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("exactly one of --size-budget-mb, --avg-wbits, --bitops-budget");
  }

  @Test
  void methodMustReconstruct(@TempDir Path dir) {
    CliRun r = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "rtn",
        "--avg-wbits", "3", "--out", dir.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--method must be brecq or qdrop");
  }

  @Test
  void badSensitivitySettingsAreOneLineErrors(@TempDir Path dir) {
    CliRun weight = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--avg-wbits", "3", "--sensitivity-weight", "hessian", "--out", dir.toString());
    assertThat(weight.code()).isEqualTo(2);
    assertThat(weight.err().strip()).doesNotContain("\n")
        .contains("--sensitivity-weight must be plus-one or fisher, got hessian");
    CliRun iters = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--avg-wbits", "3", "--sensitivity-iters", "-5", "--out", dir.toString());
    assertThat(iters.code()).isEqualTo(2);
    assertThat(iters.err()).contains("--sensitivity-iters must be >= 0, got -5");
    CliRun gain = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--avg-wbits", "3", "--min-gain", "1.5", "--out", dir.toString());
    assertThat(gain.code()).isEqualTo(2);
    assertThat(gain.err()).contains("--min-gain must be in [0, 1), got 1.5");
  }
}
