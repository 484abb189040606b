package org.qlimit.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example of README.md ("Using qlimit from Java") is the code this test compiles, with
 * javac against the library classes, and runs, on the embedded ResNet-20 at 1 iteration per unit,
 * 8 calibration images and 10 test images: it prints a line per unit and the hash of the model it
 * wrote.
 */
class ReadmeJavaExampleTest {
  private static final String SECTION = "## Using qlimit from Java";

  /** The first ```java block after the section heading. */
  static String example() throws Exception {
    String readme = Files.readString(Path.of("README.md"), StandardCharsets.UTF_8);
    int at = readme.indexOf("\n" + SECTION + "\n");
    assertThat(at).as("README.md has the section '%s'", SECTION).isNotNegative();
    int next = readme.indexOf("\n## ", at + 1);
    String section = readme.substring(at, next < 0 ? readme.length() : next);
    Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(section);
    assertThat(m.find()).as("a java block in '%s'", SECTION).isTrue();
    return m.group(1);
  }

  @Test
  void theReadmeExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
    String source = example();
    Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
    assertThat(name.find()).isTrue();
    Path src = dir.resolve("src").resolve(name.group(1) + ".java");
    Files.createDirectories(src.getParent());
    Files.writeString(src, source, StandardCharsets.UTF_8);
    Path classes = Files.createDirectories(dir.resolve("classes"));
    String classPath = String.join(File.pathSeparator, location(QuantizationRun.class),
        location(ObjectMapper.class));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    boolean compiled = javac.getTask(diagnostics, null, null,
        List.of("-cp", classPath, "-d", classes.toString(), "-Xlint:all"), null,
        javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)
            .getJavaFileObjects(src.toFile())).call();
    assertThat(compiled).as("javac: %s", diagnostics).isTrue();

    Path out = dir.resolve("out");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    PrintStream before = System.out;
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
        QuantizationRun.class.getClassLoader())) {
      Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
      System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
      main.invoke(null, (Object) new String[] {out.toString(), "1", "8", "10"});
    } finally {
      System.setOut(before);
    }
    String text = printed.toString(StandardCharsets.UTF_8);
    String sha = new ObjectMapper().readTree(out.resolve("result.json").toFile())
        .get("quantized_sha256").asText();
    assertThat(text).contains("layer1.0 joint: loss ")
        .contains("on 10 test images").endsWith("quantized_sha256 " + sha + "\n");
    assertThat(sha).hasSize(64);
  }

  private static String location(Class<?> c) throws Exception {
    return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
  }
}
