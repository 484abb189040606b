package org.qlimit.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * One run of {@link Main#execute} with stdout and stderr captured (and restored afterwards), so
 * that command tests print nothing and can check what a command wrote.
 *
 * @param code the exit code
 * @param out everything written to stdout
 * @param err everything written to stderr
 */
record CliRun(int code, String out, String err) {

  /** Runs {@code qlimit base... extra...}. */
  static CliRun of(String[] base, String... extra) {
    String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
    System.arraycopy(extra, 0, all, base.length, extra.length);
    return of(all);
  }

  /** Runs {@code qlimit args...}. */
  static CliRun of(String... args) {
    PrintStream outBefore = System.out;
    PrintStream errBefore = System.err;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      int code = Main.execute(args);
      return new CliRun(code, out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(outBefore);
      System.setErr(errBefore);
    }
  }
}
