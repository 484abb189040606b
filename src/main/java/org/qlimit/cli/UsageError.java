package org.qlimit.cli;

/**
 * An option value that is valid on its own but does not fit the data or model it is used with
 * (e.g. {@code --calib} larger than the training set, a size budget the model cannot meet),
 * found once those are loaded. {@link Main} reports it like a usage error: one line naming the
 * option, exit code 2. It is thrown before any result is written.
 */
final class UsageError extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  UsageError(String message) {
    super(message);
  }
}
