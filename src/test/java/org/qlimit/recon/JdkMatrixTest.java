package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.VectorWidths;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;

/**
 * The determinism matrix across JDKs: the tiny QDrop W2A4 run of {@link ReconDeterminismTest}
 * gives, on every other installed JDK (17 or newer, found under {@code /usr/lib/jvm} or listed in
 * the environment variable {@code QLIMIT_EXTRA_JDKS}, separated by {@code :}), for 256- and
 * 512-bit vectors × 1, 2 and 4 threads, the hash the scalar path gives on this JDK.
 * (This JDK's own matrix is {@link ReconDeterminismTest}.) Skipped when no second JDK is installed.
 */
@Tag(VectorWidths.TAG)
class JdkMatrixTest extends QuietTest {

  @Test
  void sameHashOnEveryInstalledJdk() throws Exception {
    List<Path> jdks = otherJdks();
    Assumptions.assumeFalse(jdks.isEmpty(), "no second JDK (17+) installed; nothing to compare");
    Tensor calib = ReconDeterminismTest.calibration();
    String reference = ReconDeterminismTest.run(ReconDeterminismTest.tinyQdrop(), 0, 1, calib);
    String[] configs = {"256:1", "256:2", "256:4", "512:1", "512:2", "512:4"};
    for (Path home : jdks) {
      List<String> lines = probe(home, configs);
      assertThat(lines).as("probe output on %s", home).hasSize(configs.length);
      for (String line : lines) {
        String[] f = line.split(" ");
        assertThat(f[2]).as("%s, %s-bit vectors, %s threads", home, f[0], f[1])
            .isEqualTo(reference);
      }
    }
  }

  private static List<String> probe(Path home, String[] configs)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(home.resolve("bin/java").toString(),
        "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
        DeterminismProbe.class.getName()));
    cmd.addAll(List.of(configs));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
    p.getErrorStream().transferTo(java.io.OutputStream.nullOutputStream());
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("probe on %s finished", home).isTrue();
    assertThat(p.exitValue()).as("probe on %s exit code; output %s", home, out).isZero();
    List<String> lines = new ArrayList<>();
    for (String l : out.split("\n")) {
      if (l.matches("\\d+ \\d+ [0-9a-f]{64}")) {
        lines.add(l);
      }
    }
    return lines;
  }

  /** JDK homes other than the running one whose major version is 17 or newer. */
  static List<Path> otherJdks() throws IOException {
    List<Path> candidates = new ArrayList<>();
    String extra = System.getenv("QLIMIT_EXTRA_JDKS");
    if (extra != null && !extra.isBlank()) {
      for (String s : extra.split(":")) {
        candidates.add(Path.of(s));
      }
    }
    Path jvm = Path.of("/usr/lib/jvm");
    if (Files.isDirectory(jvm)) {
      try (Stream<Path> s = Files.list(jvm)) {
        s.sorted().forEach(candidates::add);
      }
    }
    Path self = Path.of(System.getProperty("java.home")).toRealPath();
    int selfMajor = Runtime.version().feature();
    List<Path> out = new ArrayList<>();
    List<Integer> seenMajors = new ArrayList<>(List.of(selfMajor));
    for (Path c : candidates) {
      if (!Files.isExecutable(c.resolve("bin/java")) || !Files.isRegularFile(c.resolve("release"))) {
        continue;
      }
      int major = major(c.resolve("release"));
      if (major >= 17 && !seenMajors.contains(major) && !c.toRealPath().equals(self)) {
        seenMajors.add(major);
        out.add(c);
      }
    }
    return out;
  }

  /** The feature version from a JDK's {@code release} file ({@code JAVA_VERSION="25.0.3"}). */
  private static int major(Path release) throws IOException {
    for (String line : Files.readAllLines(release, StandardCharsets.UTF_8)) {
      if (line.startsWith("JAVA_VERSION=")) {
        String v = line.substring("JAVA_VERSION=".length()).replace("\"", "").trim();
        String head = v.split("[.+-]")[0];
        try {
          return Integer.parseInt(head);
        } catch (NumberFormatException e) {
          return -1;
        }
      }
    }
    return -1;
  }
}
