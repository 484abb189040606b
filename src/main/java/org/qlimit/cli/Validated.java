package org.qlimit.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.qlimit.util.Check;

/**
 * A command or option group (picocli mixin) whose option values are checked after parsing and
 * before anything runs: ranges, choices and combinations that picocli's types cannot express.
 * {@link Main} calls {@link #validate} on the command about to run and on each of its mixins;
 * an IllegalArgumentException thrown there is a usage error, reported like picocli's own (one
 * line on stderr, exit code 2), and nothing is read or written.
 */
interface Validated {
  /**
   * Checks the option values; throws IllegalArgumentException with a message that names the
   * option and the rejected value. Reads no file (output paths are only checked for being a
   * file or a folder).
   */
  void validate();

  /** {@code option} names a folder to write into: absent (it is created) or a folder. */
  static void requireFolder(String option, Path p) {
    if (p != null && Files.exists(p) && !Files.isDirectory(p)) {
      throw new IllegalArgumentException(option + " " + p + " exists and is not a folder");
    }
  }

  /** {@code option} names a file to write: absent or a regular file (it is replaced). */
  /**
   * The file {@code p} can be created: its nearest existing ancestor is a writable folder (the
   * folders in between are made when the file is written). Checked before the work, so a long
   * run does not end in a write error.
   */
  static void requireWritableTarget(String option, Path p) {
    if (p == null) {
      return;
    }
    Path a = p.toAbsolutePath().getParent();
    while (a != null && !Files.exists(a)) {
      a = a.getParent();
    }
    if (a != null && !Files.isDirectory(a)) {
      throw new IllegalArgumentException(option + " " + p + ": " + a + " is a file, not a folder");
    }
    if (a != null && !Files.isWritable(a)) {
      throw new IllegalArgumentException(option + " " + p + ": folder " + a + " is not writable");
    }
  }

  /** --calib and --eval-limit of the commands that quantize (demo, quantize, mixed). */
  static void requireCalibAndEvalLimit(int calib, int evalLimit) {
    Check.arg(calib >= 1, "--calib must be >= 1, got %d", calib);
    Check.arg(evalLimit >= 0, "--eval-limit must be >= 0 (0 = all test images), got %d",
        evalLimit);
  }

  static void requireFile(String option, Path p) {
    if (p != null && Files.isDirectory(p)) {
      throw new IllegalArgumentException(option + " " + p + " is a folder; name the file to "
          + "write");
    }
  }
}
