package org.qlimit.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reader of the CIFAR-10 "binary version" ({@code data_batch_N.bin}, {@code test_batch.bin}, and
 * the project's derived files in the same layout). No header; each record is 3073 bytes: the
 * label (0..9), then the red, green and blue planes, 32×32 each, row-major. Record i starts at
 * byte 3073·i, so the stored planes are already CHW and are copied as they are.
 *
 * <p>Strict: an empty file, a size that is not a multiple of 3073, or a label above 9 throws
 * {@link MalformedDataException} naming the file (and the record).
 */
public final class Cifar10Bin {
  public static final int SIDE = 32;
  public static final int IMAGE_BYTES = 3 * SIDE * SIDE;
  public static final int RECORD_BYTES = 1 + IMAGE_BYTES;
  public static final int CLASSES = 10;

  private Cifar10Bin() {}

  public static LabeledImages read(Path file) throws IOException {
    return read(List.of(file), file.getFileName().toString());
  }

  /** The records of all files, concatenated in the given order. */
  public static LabeledImages read(List<Path> files, String name) throws IOException {
    long total = 0;
    for (Path f : files) {
      long size = Files.size(f);
      if (size == 0 || size % RECORD_BYTES != 0) {
        throw new MalformedDataException(f, "size " + size + " is not a positive multiple of the "
            + RECORD_BYTES + "-byte CIFAR-10 record");
      }
      total += size / RECORD_BYTES;
    }
    if (total * IMAGE_BYTES > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(name + ": " + total + " records do not fit one array");
    }
    int n = (int) total;
    byte[] pixels = new byte[n * IMAGE_BYTES];
    int[] labels = new int[n];
    int i = 0;
    for (Path f : files) {
      byte[] bytes = Files.readAllBytes(f);
      if (bytes.length % RECORD_BYTES != 0) {
        throw new MalformedDataException(f, "file changed size while being read");
      }
      for (int r = 0; r < bytes.length / RECORD_BYTES; r++, i++) {
        int off = r * RECORD_BYTES;
        int label = bytes[off] & 0xff;
        if (label >= CLASSES) {
          throw new MalformedDataException(f, "record " + r + " (byte " + off + ") has label "
              + label + ", expected 0..9");
        }
        labels[i] = label;
        System.arraycopy(bytes, off + 1, pixels, i * IMAGE_BYTES, IMAGE_BYTES);
      }
    }
    return new LabeledImages(name, n, 3, SIDE, SIDE, pixels, labels, CLASSES,
        LabeledImages.contentSha256(n, 3, SIDE, SIDE, CLASSES, pixels, labels));
  }
}
