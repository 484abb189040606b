package org.qlimit.arch;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/ALGORITHMS.md is the specification, and every section of it names where in the code it is
 * implemented. This test keeps those pointers true: each section has one "Where in the code" line,
 * and each name on it ({@code package.Class} or {@code package.Class#method} under {@code
 * org.qlimit}, or a repository path) exists.
 */
class AlgorithmsDocTest {
  private static final Path SPEC = Path.of("docs", "ALGORITHMS.md");
  private static final String WHERE = "*Where in the code:*";
  private static final Pattern NAME = Pattern.compile("`([^`]+)`");

  private static List<String> lines() throws IOException {
    return Files.readAllLines(SPEC, StandardCharsets.UTF_8);
  }

  @Test
  void everySectionSaysWhereInTheCodeItIs() throws IOException {
    List<String> lines = lines();
    List<String> missing = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("## ") || lines.get(i).startsWith("### ")) {
        int count = 0;
        for (int j = i + 1; j < lines.size() && !lines.get(j).startsWith("#"); j++) {
          if (lines.get(j).startsWith(WHERE)) {
            count++;
          }
        }
        if (count != 1) {
          missing.add(lines.get(i) + " (" + count + " lines)");
        }
      }
    }
    assertThat(missing).as("sections without exactly one '%s' line", WHERE).isEmpty();
  }

  @Test
  void everyNamedClassMethodAndFileExists() throws IOException {
    List<String> names = new ArrayList<>();
    for (String line : lines()) {
      if (line.startsWith(WHERE)) {
        Matcher m = NAME.matcher(line);
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    assertThat(names).hasSizeGreaterThan(40);
    List<String> broken = new ArrayList<>();
    for (String name : names) {
      if (!exists(name)) {
        broken.add(name);
      }
    }
    assertThat(broken).as("names in %s that are not in the code", SPEC).isEmpty();
  }

  private static boolean exists(String name) {
    if (name.contains("/")) {
      return Files.isRegularFile(Path.of(name));
    }
    String[] parts = name.split("#", -1);
    Class<?> c;
    try {
      c = Class.forName("org.qlimit." + parts[0], false,
          AlgorithmsDocTest.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      return false;
    }
    if (parts.length == 1) {
      return true;
    }
    return Arrays.stream(c.getDeclaredMethods()).map(Method::getName)
        .anyMatch(parts[1]::equals);
  }
}
