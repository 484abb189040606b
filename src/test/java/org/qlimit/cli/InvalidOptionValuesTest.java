package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.qlimit.testing.QuietTest;

/**
 * Every invalid option value is a usage error, for every command: exit code 2, one line on
 * stderr in picocli's usage-error format naming the option, nothing on stdout and nothing
 * written to --out. Each case edits a valid command line: {@code --opt=value} sets (or adds) an
 * option, {@code !--opt} removes one.
 */
class InvalidOptionValuesTest extends QuietTest {
  private static final String MODEL = "datasets/models/resnet20_fmnist.safetensors";

  private static final String[] MODEL_DATA = {"--model", MODEL, "--arch", "resnet20-fmnist",
      "--data", "fashion-mnist"};

  /** A valid command line for {@code command}, writing under {@code out}. */
  private static List<String> base(String command, Path out) {
    List<String> a = new ArrayList<>(List.of(command.split(" ")));
    switch (command) {
      case "probe flatness" -> {
        a.addAll(List.of(MODEL_DATA));
        a.addAll(List.of("--run", out.resolve("run").toString(), "--eval-limit", "8",
            "--threads", "1", "--out", out.toString()));
      }
      case "quantize" -> {
        a.addAll(List.of(MODEL_DATA));
        a.addAll(List.of("--method", "qdrop", "--wbits", "2", "--abits", "4", "--iters", "1",
            "--calib", "8", "--eval-limit", "8", "--threads", "1", "--out", out.toString()));
      }
      case "eval" -> {
        a.addAll(List.of(MODEL_DATA));
        a.addAll(List.of("--limit", "8", "--threads", "1"));
      }
      case "demo" -> a.addAll(List.of("--iters", "1", "--calib", "8", "--eval-limit", "8",
          "--threads", "1", "--out", out.toString()));
      case "train" -> a.addAll(List.of("--arch", "resnet20-fmnist", "--data", "fashion-mnist",
          "--epochs", "1", "--train-limit", "256", "--test-limit", "-1", "--threads", "1",
          "--out", out.resolve("m.safetensors").toString()));
      case "mixed", "mixed-sweep" -> {
        a.addAll(List.of(MODEL_DATA));
        a.addAll(List.of("--method", "qdrop", "--iters", "1", "--calib", "8", "--eval-limit",
            "8", "--threads", "1", "--cache-dir", out.resolve("cache").toString(), "--out",
            out.toString()));
        if (command.equals("mixed")) {
          a.addAll(List.of("--avg-wbits", "3"));
        } else {
          a.addAll(List.of("--uniform", "2", "--avg-wbits-list", "3"));
        }
      }
      default -> throw new IllegalArgumentException(command);
    }
    return a;
  }

  /** Applies the edits ({@code --opt=value} sets or adds, {@code !--opt} removes). */
  private static String[] edit(List<String> args, String... edits) {
    List<String> a = new ArrayList<>(args);
    for (String e : edits) {
      if (e.startsWith("!")) {
        int i = a.indexOf(e.substring(1));
        a.remove(i + 1);
        a.remove(i);
        continue;
      }
      int eq = e.indexOf('=');
      String opt = eq < 0 ? e : e.substring(0, eq);
      int i = a.indexOf(opt);
      if (eq < 0) {
        a.add(opt);
      } else if (i >= 0) {
        a.set(i + 1, e.substring(eq + 1));
      } else {
        a.add(opt);
        a.add(e.substring(eq + 1));
      }
    }
    return a.toArray(String[]::new);
  }

  /** (command, option the error must name, edits). */
  static Stream<Arguments> cases() {
    return Stream.of(
        c("quantize", "--wbits", "--wbits=9"),
        c("quantize", "--wbits", "--wbits=1"),
        c("quantize", "--abits", "--abits=9"),
        c("quantize", "--abits", "--abits=16"),
        c("quantize", "--iters", "--iters=0"),
        c("quantize", "--iters-act", "--iters-act=0"),
        c("quantize", "--calib", "--calib=0"),
        c("quantize", "--keep-prob", "--keep-prob=1.5"),
        c("quantize", "--keep-prob", "--keep-prob=-0.1"),
        c("quantize", "--keep-prob", "--keep-prob=NaN"),
        c("quantize", "--keep-prob", "--drop-prob=1.5"),
        c("quantize", "--round-weight", "--round-weight=-1"),
        c("quantize", "--round-weight", "--round-weight=Infinity"),
        c("quantize", "--eval-limit", "--eval-limit=-1"),
        c("quantize", "--threads", "--threads=0"),
        c("quantize", "--threads", "--threads=257"),
        c("quantize", "--vector-bits", "--vector-bits=100"),
        c("quantize", "--method", "--method=gptq"),
        c("quantize", "--arch", "--arch=resnet21"),
        c("quantize", "--data", "--data=mnist"),
        c("quantize", "--granularity", "--granularity=blocks"),
        c("quantize", "--granularity", "--method=adaround", "--granularity=layer"),
        c("quantize", "--loss", "--loss=l2"),
        c("quantize", "--loss", "--method=rtn", "--loss=fisher-diag"),
        c("quantize", "--loss", "--granularity=layer", "--loss=fisher-diag"),
        c("probe flatness", "--magnitudes", "--magnitudes=0,-1"),
        c("probe flatness", "--magnitudes", "--magnitudes=NaN"),
        c("probe flatness", "--repeats", "--repeats=0"),
        c("probe flatness", "--target", "--target=biases"),
        c("probe flatness", "--eval-limit", "--eval-limit=-1"),
        c("probe flatness", "--threads", "--threads=0"),
        c("eval", "--limit", "--limit=-1"),
        c("eval", "--split", "--split=val"),
        c("eval", "--threads", "--threads=0"),
        c("eval", "--vector-bits", "--vector-bits=64"),
        c("eval", "--arch", "--arch=vgg16"),
        c("demo", "--iters", "--iters=0"),
        c("demo", "--calib", "--calib=0"),
        c("demo", "--eval-limit", "--eval-limit=-5"),
        c("demo", "--threads", "--threads=0"),
        c("train", "--epochs", "--epochs=0"),
        c("train", "--batch", "--batch=1"),
        c("train", "--lr", "--lr=0"),
        c("train", "--lr", "--lr=NaN"),
        c("train", "--momentum", "--momentum=1"),
        c("train", "--weight-decay", "--weight-decay=-1e-4"),
        c("train", "--train-limit", "--train-limit=-1"),
        c("train", "--test-limit", "--test-limit=-2"),
        c("train", "--nesterov", "--momentum=0", "--nesterov"),
        c("train", "--threads", "--threads=0"),
        c("train", "--data", "--data=imagenet-1k"),
        c("mixed", "--wbits-choices", "--wbits-choices=1,2,4"),
        c("mixed", "--wbits-choices", "--wbits-choices=2,9"),
        c("mixed", "--abits", "--abits=1"),
        c("mixed", "--iters", "--iters=0"),
        c("mixed", "--calib", "--calib=0"),
        c("mixed", "--eval-limit", "--eval-limit=-1"),
        c("mixed", "--min-gain", "--min-gain=1"),
        c("mixed", "--min-gain", "--min-gain=-0.1"),
        c("mixed", "--sensitivity-iters", "--sensitivity-iters=-1"),
        c("mixed", "--sensitivity-weight", "--sensitivity-weight=hessian"),
        c("mixed", "--round-weight", "--round-weight=-0.01"),
        c("mixed", "--method", "--method=rtn"),
        c("mixed", "--avg-wbits", "--avg-wbits=1.5"),
        c("mixed", "--size-budget-mb", "!--avg-wbits", "--size-budget-mb=0"),
        c("mixed", "--bitops-budget", "!--avg-wbits", "--bitops-budget=-1"),
        c("mixed", "--size-budget-mb", "--size-budget-mb=1"),
        c("mixed", "--threads", "--threads=0"),
        c("mixed-sweep", "--uniform", "--uniform=2,9"),
        c("mixed-sweep", "--avg-wbits-list", "--avg-wbits-list=3,8.5"),
        c("mixed-sweep", "--avg-wbits-list", "--avg-wbits-list=1"),
        c("mixed-sweep", "--iters", "--iters=-3"));
  }

  private static Arguments c(String command, String option, String... edits) {
    return Arguments.of(command, option, edits);
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("cases")
  void isAOneLineUsageError(String command, String option, String[] edits, @TempDir Path dir) {
    Path out = dir.resolve("out");
    String[] args = edit(base(command, out), edits);
    CliRun r = CliRun.of(args);
    assertThat(r.code()).as("exit code of %s; stderr: %s", Arrays.toString(args), r.err())
        .isEqualTo(2);
    assertThat(r.err()).endsWith("\n");
    String line = r.err().substring(0, r.err().length() - 1);
    assertThat(line).as("stderr").doesNotContain("\n").doesNotContain("Exception")
        .startsWith("qlimit " + command + ": ").contains(option)
        .endsWith("(see 'qlimit " + command + " --help')");
    assertThat(r.out()).as("stdout").isEmpty();
    assertThat(out).as("--out").doesNotExist();
  }

  /** An --out that is a file where a folder is written (a folder where train writes a file). */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"quantize", "demo", "mixed",
      "mixed-sweep", "train"})
  void anOutputPathOfTheWrongKindIsAUsageError(String command, @TempDir Path dir)
      throws Exception {
    Path out = dir.resolve("out");
    String[] args;
    if (command.equals("train")) {
      Files.createDirectories(out.resolve("m.safetensors"));
      args = base(command, out).toArray(String[]::new);
    } else {
      Files.writeString(out, "keep");
      args = base(command, out).toArray(String[]::new);
    }
    CliRun r = CliRun.of(args);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").startsWith("qlimit " + command + ": --out ");
    assertThat(r.out()).isEmpty();
    if (!command.equals("train")) {
      assertThat(Files.readString(out)).isEqualTo("keep");
    }
  }

  @Test
  void calibrationLargerThanTheTrainingSetIsAUsageError(@TempDir Path dir) {
    Path out = dir.resolve("out");
    CliRun r = CliRun.of(edit(base("quantize", out), "--calib=5001"));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n")
        .startsWith("qlimit quantize: --calib 5001 exceeds the 5000 training images of "
            + "fashion-mnist/train-5k");
    assertThat(out).doesNotExist();
  }

  @Test
  void trainingLimitsThatDoNotFitTheDataAreUsageErrors(@TempDir Path dir) {
    Path out = dir.resolve("out");
    CliRun limit = CliRun.of(edit(base("train", out), "--train-limit=5001"));
    assertThat(limit.code()).as(limit.err()).isEqualTo(2);
    assertThat(limit.err().strip()).doesNotContain("\n").isEqualTo("qlimit train: --train-limit "
        + "5001 exceeds the 5000 training images of fashion-mnist/train-5k (see 'qlimit train "
        + "--help')");
    CliRun batch = CliRun.of(edit(base("train", out), "--train-limit=100", "--batch=128"));
    assertThat(batch.code()).as(batch.err()).isEqualTo(2);
    assertThat(batch.err().strip()).doesNotContain("\n").startsWith("qlimit train: --batch 128 "
        + "exceeds the 100 training images used (fashion-mnist/train-5k, --train-limit 100)");
    assertThat(out).doesNotExist();
  }

  @Test
  void aBudgetTheModelCannotMeetIsAUsageError(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    CliRun r = CliRun.of(edit(base("mixed", out), "!--avg-wbits", "--size-budget-mb=0.001"));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").startsWith("qlimit mixed: --size-budget-mb")
        .contains("cannot be met");
    assertThat(out).doesNotExist();
    assertThat(Files.exists(dir.resolve("out/cache"))).isFalse();
  }

  @Test
  void helpIsNotValidated() {
    CliRun r = CliRun.of("quantize", "--help");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("--wbits");
  }
}
