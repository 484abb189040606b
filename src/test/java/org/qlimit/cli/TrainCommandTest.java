package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** {@code qlimit train}: argument errors end in one clear line on stderr and a non-zero code. */
class TrainCommandTest extends QuietTest {
  @Test
  void unknownArchitecture(@TempDir Path dir) {
    CliRun r = CliRun.of("train", "--arch", "no-such-net", "--data", "fashion-mnist",
        "--epochs", "1", "--out", dir.resolve("m.safetensors").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("qlimit train: --arch: unknown architecture 'no-such-net'");
    assertThat(Files.exists(dir.resolve("m.safetensors"))).isFalse();
  }

  @Test
  void epochsBelowOne(@TempDir Path dir) {
    CliRun r = CliRun.of("train", "--arch", "regnetx-small-fmnist", "--data", "fashion-mnist",
        "--epochs", "0", "--out", dir.resolve("m.safetensors").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("--epochs must be at least 1");
  }

  @Test
  void unknownDataset(@TempDir Path dir) {
    CliRun r = CliRun.of("train", "--arch", "regnetx-small-fmnist", "--data", "mnist",
        "--epochs", "1", "--out", dir.resolve("m.safetensors").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("--data: unknown dataset 'mnist'");
  }

  @Test
  void missingOutIsAUsageError() {
    CliRun r = CliRun.of("train", "--arch", "regnetx-small-fmnist", "--data", "fashion-mnist",
        "--epochs", "1");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("--out");
  }

  @Test
  void historyFileSitsNextToTheCheckpoint() {
    assertThat(TrainCommand.historyFile(Path.of("a/b/m.safetensors")))
        .isEqualTo(Path.of("a/b/m.json"));
    assertThat(TrainCommand.historyFile(Path.of("m.bin"))).isEqualTo(Path.of("m.bin.json"));
  }
}
