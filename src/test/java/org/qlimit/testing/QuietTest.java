package org.qlimit.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Base class for tests that must print nothing: fails any test that writes to stdout. */
public abstract class QuietTest {
  private PrintStream original;
  private ByteArrayOutputStream captured;

  @BeforeEach
  void captureStdout() {
    original = System.out;
    captured = new ByteArrayOutputStream();
    System.setOut(new PrintStream(captured, true));
  }

  @AfterEach
  void restoreStdout() {
    System.setOut(original);
    assertThat(captured.toString()).as("test wrote to stdout").isEmpty();
  }
}
