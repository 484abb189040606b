package org.qlimit.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file whose content violates its format (safetensors, IDX, CIFAR-10 binary, an image that
 * cannot be decoded). The message always starts with the file, and names the tensor or record
 * when the problem is local to one. Readers throw this instead of letting a malformed file surface
 * as an OutOfMemoryError, an index error or a NullPointerException.
 */
public final class MalformedFileException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public MalformedFileException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public MalformedFileException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  /** The file that was being read. */
  public Path file() {
    return file;
  }
}
