package org.qlimit.data;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reader of IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed (detected by
 * the gzip magic 1f 8b, not by the file name).
 *
 * <p>Format after decompression: big-endian 32-bit magic {@code 0x000008DD} where 08 = unsigned
 * byte data and DD = number of dimensions; then DD big-endian 32-bit sizes; then the data,
 * row-major. Images: magic 0x00000803 (count, rows, cols) → 1 channel. Labels: 0x00000801 (count).
 *
 * <p>Strict: a wrong magic, a zero or negative size, a decompressed length different from the
 * header's (truncated data or trailing bytes), a corrupt gzip stream, a label count different from
 * the image count, or a label ≥ numClasses throws {@link MalformedDataException} naming the file.
 * Allocation grows with the bytes actually present, so a lying header cannot exhaust memory.
 */
public final class Idx {
  public static final int IMAGES_MAGIC = 0x00000803;
  public static final int LABELS_MAGIC = 0x00000801;

  private Idx() {}

  /** Images and labels with 10 classes; name from the image file. */
  public static LabeledImages readImages(Path images, Path labels) throws IOException {
    return readImages(images, labels, 10, images.getFileName().toString());
  }

  public static LabeledImages readImages(Path images, Path labels, int numClasses, String name)
      throws IOException {
    Array img = read(images, IMAGES_MAGIC);
    Array lab = read(labels, LABELS_MAGIC);
    int n = img.dims[0];
    if (lab.dims[0] != n) {
      throw new MalformedDataException(labels,
          lab.dims[0] + " labels, but " + images + " holds " + n + " images");
    }
    int[] lbl = new int[n];
    for (int i = 0; i < n; i++) {
      lbl[i] = lab.data[i] & 0xff;
      if (lbl[i] >= numClasses) {
        throw new MalformedDataException(labels,
            "label " + lbl[i] + " of item " + i + " outside 0.." + (numClasses - 1));
      }
    }
    int h = img.dims[1];
    int w = img.dims[2];
    return new LabeledImages(name, n, 1, h, w, img.data, lbl, numClasses,
        LabeledImages.contentSha256(n, 1, h, w, numClasses, img.data, lbl));
  }

  /** A decoded IDX array: dims and uint8 data. */
  public record Array(int[] dims, byte[] data) {}

  /** Reads an unsigned-byte IDX file and checks its magic (which fixes the dimension count). */
  public static Array read(Path file, int expectedMagic) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
      InputStream in = raw;
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        in = new GZIPInputStream(raw, 1 << 16);
      }
      return parse(file, in, expectedMagic);
    } catch (MalformedDataException e) {
      throw e;
    } catch (IOException e) {
      throw new MalformedDataException(file, "cannot decode (corrupt gzip or I/O error): " + e, e);
    }
  }

  private static Array parse(Path file, InputStream in, int expectedMagic) throws IOException {
    int magic = readInt(file, in, "magic");
    if (magic != expectedMagic) {
      throw new MalformedDataException(file, String.format(
          "magic 0x%08x, expected 0x%08x (%s)", magic, expectedMagic,
          expectedMagic == IMAGES_MAGIC ? "ubyte images, 3 dims" : "ubyte labels, 1 dim"));
    }
    int ndims = magic & 0xff;
    int[] dims = new int[ndims];
    long count = 1;
    for (int d = 0; d < ndims; d++) {
      dims[d] = readInt(file, in, "size of dimension " + d);
      if (dims[d] < 0 || (dims[d] == 0 && d > 0)) {
        throw new MalformedDataException(file, "dimension " + d + " has size " + dims[d]);
      }
      count *= dims[d];
      if (count > Integer.MAX_VALUE - 16) {
        throw new MalformedDataException(file, "header declares more than 2^31 bytes of data");
      }
    }
    byte[] data = in.readNBytes((int) count);
    if (data.length < count) {
      throw new MalformedDataException(file, "truncated: header declares " + count
          + " data bytes, found " + data.length);
    }
    if (in.read() != -1) {
      throw new MalformedDataException(file,
          "trailing bytes after the " + count + " data bytes the header declares");
    }
    return new Array(dims, data);
  }

  private static int readInt(Path file, InputStream in, String what) throws IOException {
    byte[] b = in.readNBytes(4);
    if (b.length < 4) {
      throw new MalformedDataException(file, "truncated header: no " + what);
    }
    return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
  }
}
