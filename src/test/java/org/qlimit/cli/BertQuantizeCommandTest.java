package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit quantize --arch bert} on the committed TREC model at a tiny budget: the result
 * names the split, FP and quantized accuracy and a hash that does not depend on the thread count;
 * {@code qlimit archs} lists bert.
 */
class BertQuantizeCommandTest extends QuietTest {
  private static final String MODEL = "datasets/models/bert_trec/model.safetensors";

  private static String run(Path out, String threads) throws Exception {
    CliRun r = CliRun.of("quantize", "--arch", "bert", "--data", "trec", "--model", MODEL,
        "--method", "brecq", "--wbits", "4", "--abits", "4", "--iters", "2", "--calib", "8",
        "--eval-limit", "30", "--out", out.toString(), "--threads", threads);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("trec/test accuracy: FP ")
        // calibration counts sentences; one formatted line per unit, as for images
        .contains("  activation ranges (shrink-Lp, sequential, 8 sentences (all there are; the "
            + "method uses up to 64))\n")
        .containsPattern("\n    bert\\.encoder\\.layer\\.1 +weights +loss [0-9.e-]+ -> "
            + "[0-9.e-]+  \\(")
        .doesNotContain("UnitRecord").doesNotContain(" images");
    String json = Files.readString(out.resolve("result.json"));
    assertThat(json).contains("\"eval_set\" : \"trec/test\"", "\"eval_sentences\" : 30",
        "\"method\" : \"brecq\"", "\"abits\" : 4");
    return json.replaceAll("(?s).*\"quantized_sha256\" : \"([0-9a-f]{64})\".*", "$1");
  }

  @Test
  void quantizesWithTheSameHashAtOneAndTwoThreads(@TempDir Path dir) throws Exception {
    String a = run(dir.resolve("a"), "1");
    String b = run(dir.resolve("b"), "2");
    assertThat(a).hasSize(64).isEqualTo(b);
  }

  @Test
  void archsListsBert() {
    CliRun r = CliRun.of("archs");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("bert");
  }
}
