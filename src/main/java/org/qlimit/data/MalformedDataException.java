package org.qlimit.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file whose content violates its format (IDX, CIFAR-10 binary, an undecodable image).
 * The message starts with the file and says what was wrong. (The {@code data} package may not
 * import {@code io}, so this is the data-side twin of {@code io.MalformedFileException}.)
 */
public final class MalformedDataException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public MalformedDataException(Path file, String problem) {
    super(file + ": " + problem);
    this.file = file;
  }

  public MalformedDataException(Path file, String problem, Throwable cause) {
    super(file + ": " + problem, cause);
    this.file = file;
  }

  public Path file() {
    return file;
  }
}
