package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** {@code qlimit train}: argument errors end in one clear line on stderr and a non-zero code. */
class TrainCommandTest extends QuietTest {
  private PrintStream originalErr;
  private ByteArrayOutputStream err;

  @BeforeEach
  void captureStderr() {
    originalErr = System.err;
    err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreStderr() {
    System.setErr(originalErr);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void unknownArchitecture(@TempDir Path dir) {
    int rc = Main.execute("train", "--arch", "no-such-net", "--data", "fashion-mnist",
        "--epochs", "1", "--out", dir.resolve("m.safetensors").toString());
    assertThat(rc).isEqualTo(1);
    assertThat(stderr()).contains("qlimit train: error: unknown architecture 'no-such-net'");
    assertThat(Files.exists(dir.resolve("m.safetensors"))).isFalse();
  }

  @Test
  void epochsBelowOne(@TempDir Path dir) {
    int rc = Main.execute("train", "--arch", "regnetx-small-fmnist", "--data", "fashion-mnist",
        "--epochs", "0", "--out", dir.resolve("m.safetensors").toString());
    assertThat(rc).isEqualTo(1);
    assertThat(stderr()).contains("--epochs must be at least 1");
  }

  @Test
  void unknownDataset(@TempDir Path dir) {
    int rc = Main.execute("train", "--arch", "regnetx-small-fmnist", "--data", "mnist",
        "--epochs", "1", "--out", dir.resolve("m.safetensors").toString());
    assertThat(rc).isEqualTo(1);
    assertThat(stderr()).contains("mnist");
  }

  @Test
  void missingOutIsAUsageError() {
    int rc = Main.execute("train", "--arch", "regnetx-small-fmnist", "--data", "fashion-mnist",
        "--epochs", "1");
    assertThat(rc).isEqualTo(2);
    assertThat(stderr()).contains("--out");
  }

  @Test
  void historyFileSitsNextToTheCheckpoint() {
    assertThat(TrainCommand.historyFile(Path.of("a/b/m.safetensors")))
        .isEqualTo(Path.of("a/b/m.json"));
    assertThat(TrainCommand.historyFile(Path.of("m.bin"))).isEqualTo(Path.of("m.bin.json"));
  }
}
