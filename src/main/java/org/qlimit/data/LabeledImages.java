package org.qlimit.data;

import java.security.MessageDigest;
import java.util.Arrays;
import org.qlimit.util.Hashing;

/**
 * A labelled set of 8-bit images held in memory.
 *
 * <p>Layout: {@code pixels} is n×channels×height×width uint8, NCHW (each image CHW, row-major);
 * {@code labels[i]} in 0..numClasses-1 is the class of image i. {@code name} says where the set
 * came from (e.g. "fashion-mnist/test"); {@code sourceSha256} is {@link #contentSha256} of the
 * full decoded source set (independent of compression), kept unchanged by {@link #subset} so that
 * a run can record which data it used. The arrays are held, not copied: treat them as read-only.
 */
public record LabeledImages(String name, int n, int channels, int height, int width,
    byte[] pixels, int[] labels, int numClasses, String sourceSha256) {

  public LabeledImages {
    if (name == null || sourceSha256 == null || pixels == null || labels == null) {
      throw new IllegalArgumentException("name, sourceSha256, pixels and labels are required");
    }
    if (n < 0 || channels <= 0 || height <= 0 || width <= 0 || numClasses <= 0) {
      throw new IllegalArgumentException(name + ": invalid sizes n=" + n + " c=" + channels
          + " h=" + height + " w=" + width + " classes=" + numClasses);
    }
    long need = (long) n * channels * height * width;
    if (pixels.length != need || labels.length != n) {
      throw new IllegalArgumentException(name + ": " + pixels.length + " pixel bytes and "
          + labels.length + " labels for n=" + n + " images of " + channels + "x" + height + "x"
          + width + " (need " + need + " and " + n + ")");
    }
    for (int i = 0; i < n; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw new IllegalArgumentException(
            name + ": label " + labels[i] + " of image " + i + " outside 0.." + (numClasses - 1));
      }
    }
  }

  /** Values per image: channels × height × width. */
  public int imageSize() {
    return channels * height * width;
  }

  /**
   * Writes the normalized images {@code indices[0], indices[1], ...} in that order into
   * {@code out} as NCHW floats: out[(b·C + c)·H·W + y·W + x] = norm.apply(pixel, c).
   * out: Modified (the first indices.length × imageSize() elements). indices: Not modified.
   */
  public void fillBatch(int[] indices, float[] out, Normalization norm) {
    if (norm.channels() != channels) {
      throw new IllegalArgumentException(name + ": normalization has " + norm.channels()
          + " channels, images have " + channels);
    }
    int size = imageSize();
    int plane = height * width;
    long need = (long) indices.length * size;
    if (out.length < need) {
      throw new IllegalArgumentException(name + ": fillBatch: out has " + out.length
          + " elements, " + indices.length + " images need " + need);
    }
    float[] mean = norm.mean();
    float[] std = norm.std();
    for (int b = 0; b < indices.length; b++) {
      int idx = indices[b];
      if (idx < 0 || idx >= n) {
        throw new IndexOutOfBoundsException(name + ": image index " + idx + " outside 0.." + (n - 1));
      }
      int src = idx * size;
      int dst = b * size;
      for (int c = 0; c < channels; c++) {
        float m = mean[c];
        float s = std[c];
        int base = c * plane;
        for (int k = 0; k < plane; k++) {
          out[dst + base + k] = ((pixels[src + base + k] & 0xff) / 255f - m) / s;
        }
      }
    }
  }

  /** The same images under another name (arrays shared). */
  public LabeledImages withName(String newName) {
    return new LabeledImages(newName, n, channels, height, width, pixels, labels, numClasses,
        sourceSha256);
  }

  /** Images from..to-1 as a new set (arrays copied); name gets "[from:to]". */
  public LabeledImages subset(int from, int to) {
    if (from < 0 || to > n || from > to) {
      throw new IllegalArgumentException(
          name + ": subset [" + from + ", " + to + ") outside [0, " + n + ")");
    }
    int size = imageSize();
    return new LabeledImages(name + "[" + from + ":" + to + "]", to - from, channels, height, width,
        Arrays.copyOfRange(pixels, from * size, to * size), Arrays.copyOfRange(labels, from, to),
        numClasses, sourceSha256);
  }

  /** Number of images per class, index = class. */
  public int[] labelCounts() {
    int[] counts = new int[numClasses];
    for (int l : labels) {
      counts[l]++;
    }
    return counts;
  }

  /**
   * SHA-256 (hex) of a decoded set: the ints n, channels, height, width, numClasses
   * (little-endian), then the pixel bytes, then the labels as little-endian ints.
   */
  public static String contentSha256(int n, int channels, int height, int width, int numClasses,
      byte[] pixels, int[] labels) {
    MessageDigest md = Hashing.sha256();
    Hashing.update(md, new int[] {n, channels, height, width, numClasses});
    md.update(pixels);
    Hashing.update(md, labels);
    return Hashing.hex(md.digest());
  }

  @Override
  public String toString() {
    return "LabeledImages[" + name + ", n=" + n + ", " + channels + "x" + height + "x" + width
        + ", classes=" + numClasses + ", sha256=" + sourceSha256 + "]";
  }
}
