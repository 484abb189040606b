package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit mixed} and {@code mixed-sweep} on the committed BERT TREC model at tiny budgets:
 * the searched widths fit the budget, pooler and classifier stay at 8 bits, and the widths and
 * the hash do not depend on the thread count; budgets no assignment meets are one-line errors.
 */
class BertMixedCommandTest extends QuietTest {
  private static final String MODEL = "datasets/models/bert_trec/model.safetensors";

  private static CliRun mixed(Path dir, String out, String threads, String... budget) {
    List<String> a = new ArrayList<>(List.of("mixed", "--model", MODEL, "--arch", "bert",
        "--data", "trec", "--method", "brecq", "--wbits-choices", "2,8", "--iters", "2",
        "--calib", "8", "--eval-limit", "20", "--threads", threads, "--cache-dir",
        dir.resolve("cache-" + threads).toString(), "--out", dir.resolve(out).toString()));
    a.addAll(List.of(budget));
    return CliRun.of(a.toArray(String[]::new));
  }

  @Test
  void searchesWithinTheBudgetWithTheSameBitsAtOneAndTwoThreads(@TempDir Path dir)
      throws Exception {
    CliRun one = mixed(dir, "one", "1", "--avg-wbits", "4");
    assertThat(one.code()).as(one.err()).isZero();
    assertThat(one.out()).contains("on 8 sentences", "bert.encoder.layer.1.output.dense",
        "(pinned, §11)", "GBitOPs/sentence", "trec/test accuracy");
    CliRun two = mixed(dir, "two", "2", "--avg-wbits", "4");
    assertThat(two.code()).as(two.err()).isZero();
    ObjectMapper om = new ObjectMapper();
    JsonNode a = om.readTree(dir.resolve("one/result.json").toFile());
    JsonNode b = om.readTree(dir.resolve("two/result.json").toFile());
    assertThat(a.get("wbits").asText()).isEqualTo("mixed");
    assertThat(a.get("size_bits").asLong()).isLessThanOrEqualTo(a.get("budget").get("limit")
        .asLong());
    JsonNode assignment = a.get("assignment");
    // 2 transformer layers x 6 searched linear layers, plus the pinned pooler and classifier
    assertThat(assignment.size()).isEqualTo(14);
    assertThat(assignment.get("bert.pooler.dense").asInt()).isEqualTo(8);
    assertThat(assignment.get("classifier").asInt()).isEqualTo(8);
    List<Integer> searched = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = assignment.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().startsWith("bert.encoder.layer.")) {
        searched.add(e.getValue().asInt());
      }
    }
    assertThat(searched).hasSize(12).containsOnly(2, 8);
    // the average of 4 bits admits neither uniform 8 nor only 2s as the best: both widths occur
    assertThat(searched).contains(2, 8);
    assertThat(b.get("assignment")).isEqualTo(assignment);
    assertThat(b.get("quantized_sha256").asText()).hasSize(64)
        .isEqualTo(a.get("quantized_sha256").asText());
    assertThat(b.get("search").get("objective").asDouble())
        .isEqualTo(a.get("search").get("objective").asDouble());
    assertThat(Files.size(dir.resolve("one/bits.png"))).isPositive();
    assertThat(Files.exists(dir.resolve("one/quantized.safetensors"))).isTrue();
  }

  @Test
  void budgetsNoAssignmentMeetsAreOneLineErrors(@TempDir Path dir) {
    CliRun size = mixed(dir, "s", "1", "--size-budget-mb", "0.001");
    assertThat(size.code()).isEqualTo(2);
    assertThat(size.err().strip()).doesNotContain("\n")
        .startsWith("qlimit mixed: --size-budget-mb / --avg-wbits / --avg-wbits-list: budget "
            + "model size <= 0.0010 MB cannot be met")
        .contains("every searched layer at 2 bits, pinned layers at 8").contains("raise");
    CliRun ops = mixed(dir, "o", "1", "--bitops-budget", "0.001");
    assertThat(ops.code()).isEqualTo(2);
    assertThat(ops.err().strip()).doesNotContain("\n")
        .startsWith("qlimit mixed: --bitops-budget: budget BitOPs <= 0.0010 G")
        .contains("cannot be met");
    CliRun avg = mixed(dir, "a", "1", "--avg-wbits", "1.5");
    assertThat(avg.code()).isEqualTo(2);
    assertThat(avg.err().strip()).doesNotContain("\n")
        .contains("--avg-wbits must be within the --wbits-choices range 2..8, got 1.5");
    CliRun none = mixed(dir, "n", "1");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err().strip()).doesNotContain("\n")
        .contains("give exactly one of --size-budget-mb, --avg-wbits, --bitops-budget");
    // nothing was measured or written
    assertThat(Files.exists(dir.resolve("cache-1"))).isFalse();
    assertThat(Files.exists(dir.resolve("s"))).isFalse();
  }

  @Test
  void mismatchedArchAndTextDataIsAOneLineError(@TempDir Path dir) {
    CliRun r = CliRun.of("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "trec", "--method", "brecq", "--avg-wbits", "4",
        "--out", dir.resolve("out").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n")
        .contains("--arch resnet20-fmnist does not read --data trec");
  }

  @Test
  void sweepRunsUniformAndMixedOnSentences(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("sweep");
    CliRun r = CliRun.of("mixed-sweep", "--model", MODEL, "--arch", "bert", "--data", "trec",
        "--method", "brecq", "--wbits-choices", "2,8", "--uniform", "2", "--avg-wbits-list",
        "3", "--iters", "1", "--calib", "8", "--eval-limit", "10", "--threads", "2",
        "--cache-dir", dir.resolve("cache").toString(), "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    JsonNode sweep = new ObjectMapper().readTree(out.resolve("sweep.json").toFile());
    assertThat(sweep.get("runs")).hasSize(2);
    JsonNode uniform = new ObjectMapper().readTree(out.resolve("uniform-w2/result.json")
        .toFile());
    JsonNode mixed = new ObjectMapper().readTree(out.resolve("mixed-avg3/result.json").toFile());
    assertThat(uniform.get("wbits").asInt()).isEqualTo(2);
    assertThat(uniform.get("eval_sentences").asInt()).isEqualTo(10);
    assertThat(mixed.get("size_bits").asLong())
        .isLessThanOrEqualTo(mixed.get("budget").get("limit").asLong())
        .isGreaterThan(uniform.get("size_bits").asLong());
    assertThat(Files.size(out.resolve("sweep.png"))).isPositive();
  }
}
