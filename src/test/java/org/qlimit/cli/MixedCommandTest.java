package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** {@code qlimit mixed}: a budget no assignment meets ends in one clear line, before any work. */
class MixedCommandTest extends QuietTest {

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    PrintStream quiet = System.out;
    PrintStream errBefore = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(quiet);
      System.setErr(errBefore);
    }
  }

  @Test
  void infeasibleBudgetIsAOneLineError(@TempDir Path dir) {
    Run r = run("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "brecq",
        "--wbits-choices", "2,4,8", "--size-budget-mb", "0.01", "--calib", "8",
        "--cache-dir", dir.resolve("cache").toString(), "--out", dir.resolve("out").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n")
        .startsWith("qlimit mixed: error: budget model size <= 0.0100 MB cannot be met")
        .contains("every searched layer at 2 bits").contains("raise the budget");
    assertThat(Files.exists(dir.resolve("cache"))).isFalse();
  }

  @Test
  void exactlyOneBudget(@TempDir Path dir) {
    Run r = run("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop",
        "--avg-wbits", "3", "--bitops-budget", "1", "--out", dir.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("exactly one of --size-budget-mb, --avg-wbits, --bitops-budget");
  }

  @Test
  void methodMustReconstruct(@TempDir Path dir) {
    Run r = run("mixed", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "rtn",
        "--avg-wbits", "3", "--out", dir.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("--method must be brecq or qdrop");
  }
}
