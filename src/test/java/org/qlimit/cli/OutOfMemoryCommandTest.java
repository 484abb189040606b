package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.recon.MemoryEstimate;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit quantize} under a small heap, in a forked JVM ({@code -Xmx}): the case
 * ({@code QLIMIT_JAVA_OPTS=-Xmx300m ... --method qdrop --calib 5000} ended in a raw
 * OutOfMemoryError and a 19-line stack trace), scaled down to run in seconds on the embedded
 * ResNet-20 / Fashion-MNIST model. When the estimated caches do not fit the heap the run keeps
 * them in memory-mapped files and ends with the same quantized model as a run with a large heap;
 * when the heap is too small even so, the run ends in a one-line error with exit code 1, no stack
 * trace, and no results written.
 */
class OutOfMemoryCommandTest extends QuietTest {

  private static List<String> args(Path out, int calib, int abits) {
    return List.of("quantize", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop", "--wbits",
        "2", "--abits", Integer.toString(abits), "--iters", "1", "--calib", Integer.toString(calib), "--eval-limit", "10",
        "--threads", "2", "--out", out.toString());
  }

  /** Exit code, stdout, and stderr without the JDK's incubator-module warning. */
  private record Forked(int code, String out, String err) {}

  private static Forked fork(String xmx, Path work, List<String> qlimitArgs) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xmx" + xmx,
        "-cp", System.getProperty("java.class.path"), "org.qlimit.cli.Main"));
    cmd.addAll(qlimitArgs);
    Path stdout = work.resolve("stdout-" + xmx);
    Path stderr = work.resolve("stderr-" + xmx);
    Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile()).start();
    if (!p.waitFor(240, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("qlimit -Xmx" + xmx + " did not end within 240 s");
    }
    String err = Files.readAllLines(stderr, StandardCharsets.UTF_8).stream()
        .filter(l -> !l.startsWith("WARNING: Using incubator modules"))
        .collect(Collectors.joining("\n"));
    return new Forked(p.exitValue(), Files.readString(stdout, StandardCharsets.UTF_8), err);
  }

  private static String sha(String out) {
    return out.lines().filter(l -> l.startsWith("quantized_sha256 ")).findFirst()
        .orElseThrow(() -> new AssertionError("no quantized_sha256 in:\n" + out)).substring(17);
  }

  private static List<String> cacheFolders(Path out) throws IOException {
    if (!Files.isDirectory(out)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(out)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("activation-cache"))
          .toList();
    }
  }

  private static void assertOneLineOutOfMemory(Forked r, int calib) {
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("\n").doesNotContain("\tat ")
        .doesNotContain("Exception").startsWith("qlimit quantize: error: out of memory (")
        .contains("heap").contains("QLIMIT_JAVA_OPTS=-Xmx")
        .contains("lower --calib (now " + calib + ")");
  }

  /**
   * 70 calibration images (two cache-pass batches), weights only (W2A32) to keep the two runs
   * short; that mapped caches keep the bits with quantized activations too is
   * {@code recon.MappedCacheReconTest}.
   */
  @Test
  void smallHeapKeepsTheCachesInMappedFilesWithTheSameResult(@TempDir Path dir) throws Exception {
    Path mappedOut = dir.resolve("mapped");
    Forked small = fork("128m", dir, args(mappedOut, 70, 32));
    assertThat(small.code()).as(small.err()).isZero();
    assertThat(small.err()).isEmpty();
    assertThat(small.out()).contains("memory: estimate ")
        .contains("the caches do not fit, so they go to memory-mapped files under " + mappedOut)
        .containsPattern("activation caches: memory-mapped files in " + mappedOut
            + "/activation-cache-\\d+")
        .containsPattern("activation caches: deleted " + mappedOut + "/activation-cache-\\d+");
    assertThat(cacheFolders(mappedOut)).isEmpty();

    Path heapOut = dir.resolve("heap");
    CliRun big = CliRun.of(args(heapOut, 70, 32).toArray(String[]::new));
    assertThat(big.code()).as(big.err()).isZero();
    assertThat(big.out()).contains("the caches fit in the heap");
    assertThat(sha(small.out())).isEqualTo(sha(big.out()));
  }

  /**
   * The 5,000 calibration images under a heap that holds the decoded data but not what
   * the run needs besides its (mapped) caches: the first large allocation after the estimate
   * fails at once. (A heap that almost suffices makes the JVM collect garbage for minutes before
   * it gives up, too slow for a test.)
   */
  @Test
  void heapTooSmallEvenWithMappedCachesIsAOneLineError(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Forked r = fork("56m", dir, args(out, 5000, 4));
    assertOneLineOutOfMemory(r, 5000);
    assertThat(r.err()).contains("; estimated need ")
        .contains("caches 957.0 MiB (196.0 KiB per calibration image × 5000, peak at layer1.0)")
        .contains("(caches in memory-mapped files)")
        .contains("QLIMIT_JAVA_OPTS=-Xmx1536m");
    assertThat(r.out()).contains("memory: estimate ");
    // the run made the folder for its mapped caches; failing, it leaves none of it behind
    assertThat(out).doesNotExist();
  }

  @Test
  void runningOutWhileLoadingIsAOneLineError(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    Forked r = fork("20m", dir, args(out, 70, 4));
    assertOneLineOutOfMemory(r, 70);
    assertThat(r.err()).contains("before the memory estimate");
    assertThat(out).doesNotExist();
  }

  @Test
  void otherCommandsRunningOutAreAOneLineErrorToo(@TempDir Path dir) throws Exception {
    Forked r = fork("12m", dir, List.of("eval", "--model",
        "datasets/models/resnet20_fmnist.safetensors", "--arch", "resnet20-fmnist", "--data",
        "fashion-mnist"));
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).doesNotContain("\n").doesNotContain("\tat ")
        .startsWith("qlimit eval: error: out of memory (").contains("no memory estimate")
        .contains("lower --limit").contains("QLIMIT_JAVA_OPTS=-Xmx");
  }

  @Test
  void suggestedHeapLeavesTheMarginInWhole256MiB() {
    long mib = 1L << 20;
    assertThat(MemoryEstimate.suggestedHeap(92 * mib)).isEqualTo("256m"); // 92 + 64 → 256
    assertThat(MemoryEstimate.suggestedHeap(1130 * mib)).isEqualTo("1536m"); // 1.25 × 1130 = 1412.5
    assertThat(MemoryEstimate.suggestedHeap(3200 * mib)).isEqualTo("4g"); // 1.25 × 3200 = 4000
  }
}
