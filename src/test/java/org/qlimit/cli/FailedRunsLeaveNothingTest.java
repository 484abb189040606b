package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * Failures found by trying the commands as a new user: a diverging training run, an output path
 * under a file, file-system errors reported without their cause, an out-of-range rounding
 * weight and a limit beyond the data (a failed quantize run's folder: OutOfMemoryCommandTest).
 */
class FailedRunsLeaveNothingTest extends QuietTest {
  private static final String MODEL = "datasets/models/resnet20_fmnist.safetensors";

  @Test
  void divergingTrainingStopsNamingTheStepAndWritesNothing(@TempDir Path dir) {
    Path out = dir.resolve("sub").resolve("t.safetensors");
    CliRun r = CliRun.of("train", "--arch", "resnet20-fmnist", "--data", "fashion-mnist",
        "--epochs", "1", "--train-limit", "64", "--batch", "32", "--threads", "1", "--seed", "1",
        "--lr", "1e30", "--test-limit", "-1", "--out", out.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("internal error")
        .contains("training loss is").contains("epoch 1, step").contains("lower --lr");
    assertThat(dir.resolve("sub")).doesNotExist();
  }

  @Test
  void trainOutputUnderAFileIsAUsageErrorBeforeTraining(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("afile"), "x");
    CliRun r = CliRun.of("train", "--arch", "resnet20-fmnist", "--data", "fashion-mnist",
        "--epochs", "1", "--train-limit", "64", "--out", file.resolve("t.safetensors").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().strip()).doesNotContain("\n").contains("--out")
        .contains("is a file, not a folder");
  }

  @Test
  void aMissingFolderIsNamedWithTheCause() {
    String msg = Main.withFileCause(new java.io.UncheckedIOException("cannot write checkpoint "
        + "/proc/x/c: /proc/x", new java.nio.file.NoSuchFileException("/proc/x")),
        "cannot write checkpoint /proc/x/c: /proc/x");
    assertThat(msg).isEqualTo("cannot write checkpoint /proc/x/c: /proc/x (no such file or "
        + "folder)");
    assertThat(Main.withFileCause(new java.nio.file.FileSystemException("/a", null,
        "Not a directory"), "/a: Not a directory")).isEqualTo("/a: Not a directory");
  }

  @Test
  void anOverflowingRoundingWeightIsAUsageError(@TempDir Path dir) {
    CliRun r = CliRun.of("quantize", "--model", MODEL, "--arch", "resnet20-fmnist", "--data",
        "fashion-mnist", "--method", "qdrop", "--wbits", "2", "--abits", "4", "--iters", "2",
        "--calib", "8", "--round-weight", "1e38", "--out", dir.resolve("o").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("--round-weight must be in [0, 1000]");
    assertThat(dir.resolve("o")).doesNotExist();
  }

  @Test
  void aLimitBeyondTheTestSetIsStated() {
    CliRun r = CliRun.of("eval", "--model", MODEL, "--arch", "resnet20-fmnist", "--data",
        "fashion-mnist", "--limit", "999999", "--threads", "1");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("note: --limit 999999 exceeds the 10000 images of")
        .contains("10000 images): FP32 top-1");
  }
}
