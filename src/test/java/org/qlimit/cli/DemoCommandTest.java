package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit demo} at a tiny budget: eight runs, one folder each, and a table whose header
 * states the images and iterations actually used.
 */
class DemoCommandTest extends QuietTest {

  @Test
  void tableStatesTheBudgetItRan(@TempDir Path dir) {
    Path out = dir.resolve("demo");
    CliRun r = CliRun.of("demo", "--iters", "1", "--calib", "8", "--eval-limit", "20",
        "--threads", "1", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("ResNet-20 on Fashion-MNIST, top-1 % on the first 20 test "
        + "images (1 iters/unit except RTN, 8 calibration images)");
    for (String m : new String[] {"fp32", "rtn", "adaround", "brecq", "qdrop"}) {
      assertThat(r.out()).containsPattern("(?m)^" + m + " +[0-9.]+ +[0-9.]+$");
    }
    for (String run : new String[] {"rtn", "adaround", "brecq", "qdrop"}) {
      for (String s : new String[] {"w2a4", "w2a2"}) {
        assertThat(out.resolve(run + "-" + s).resolve("result.json")).exists();
        assertThat(out.resolve(run + "-" + s).resolve("quantized.safetensors")).exists();
      }
    }
  }

  @Test
  void bertDemoRunsTheFourMethodsOnTheCommittedTrecModel(@TempDir Path dir) {
    Path out = dir.resolve("demo");
    CliRun r = CliRun.of("demo", "--arch", "bert", "--data", "trec", "--iters", "1", "--calib",
        "8", "--eval-limit", "20", "--threads", "1", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("BERT (bert_trec) on trec, accuracy % on the first 20 sentences "
        + "of trec/test (1 iters/unit except RTN, 8 calibration sentences)");
    assertThat(r.out()).containsPattern("(?m)^method +W4A8 +W4A4$");
    for (String m : new String[] {"fp32", "rtn", "adaround", "brecq", "qdrop"}) {
      assertThat(r.out()).containsPattern("(?m)^" + m + " +[0-9.]+ +[0-9.]+$");
    }
    for (String run : new String[] {"rtn", "adaround", "brecq", "qdrop"}) {
      for (String s : new String[] {"w4a8", "w4a4"}) {
        assertThat(out.resolve(run + "-" + s).resolve("result.json")).exists();
      }
    }
  }

  @Test
  void mismatchedArchAndDataIsOneLine(@TempDir Path dir) {
    CliRun r = CliRun.of("demo", "--arch", "bert", "--data", "fashion-mnist", "--out",
        dir.resolve("d").toString());
    assertThat(r.code()).isNotZero();
    assertThat(r.err().strip()).doesNotContain("\n").contains(
        "--arch bert does not read --data fashion-mnist");
    CliRun u = CliRun.of("demo", "--arch", "bert", "--data", "imdb", "--out",
        dir.resolve("e").toString());
    assertThat(u.code()).isNotZero();
    assertThat(u.err().strip()).doesNotContain("\n").contains(
        "--data must be fashion-mnist, sst2 or trec for the demo, got 'imdb'");
  }
}
