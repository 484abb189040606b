package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.run.RunCheckpoint;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit quantize --resume}: a finished run leaves no checkpoint; resuming without one, or
 * from a file that another configuration wrote, is a one-line error. (That a resumed run ends
 * with the uninterrupted run's bits is {@code recon.CheckpointResumeTest}.)
 */
class QuantizeResumeCommandTest extends QuietTest {

  private static CliRun run(Path out, String... extra) {
    String[] base = {"quantize", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop",
        "--wbits", "2", "--abits", "4", "--iters", "2", "--calib", "8", "--eval-limit", "20",
        "--threads", "1", "--out", out.toString()};
    return CliRun.of(base, extra);
  }

  @Test
  void resumeNeedsAMatchingCheckpoint(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    CliRun none = run(out, "--resume");
    assertThat(none.code()).isEqualTo(1);
    assertThat(none.err().strip()).doesNotContain("\n").contains("--resume: no checkpoint at");

    CliRun done = run(out);
    assertThat(done.code()).as(done.err()).isEqualTo(0);
    assertThat(out.resolve("result.json")).exists();
    assertThat(java.nio.file.Files.readString(out.resolve("result.json")))
        .contains("\"resumed_units\" : 0");
    assertThat(out.resolve(RunCheckpoint.FILE)).doesNotExist();

    // a quantized model is not a checkpoint of this run: it carries no matching key
    Files.copy(out.resolve("quantized.safetensors"), out.resolve(RunCheckpoint.FILE));
    CliRun foreign = run(out, "--resume");
    assertThat(foreign.code()).isEqualTo(1);
    assertThat(foreign.err().strip()).doesNotContain("\n")
        .contains("was written by a run with other options");
  }

  @Test
  void aCheckpointThatCannotBeWrittenIsAOneLineFailure(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    // a folder where the checkpoint's temporary file goes makes every checkpoint write fail
    Files.createDirectories(out.resolve(RunCheckpoint.FILE + ".tmp").resolve("x"));
    CliRun r = run(out);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("internal error")
        .startsWith("qlimit quantize: error: cannot write checkpoint");
    assertThat(out.resolve("result.json")).doesNotExist();
    assertThat(out.resolve("quantized.safetensors")).doesNotExist();
  }
}
