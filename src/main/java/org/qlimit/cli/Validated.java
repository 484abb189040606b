package org.qlimit.cli;

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
   * option and the rejected value. Reads no file.
   */
  void validate();
}
