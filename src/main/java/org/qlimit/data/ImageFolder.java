package org.qlimit.data;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Reader of a torchvision-style image tree: {@code root/<class name>/<image>}. Classes are the
 * subdirectories sorted by name in UTF-8 byte order (class index = position); images are the
 * regular files ending in .jpg, .jpeg or .png (any case), sorted the same way; other files and
 * hidden entries (name starting with '.') are skipped. Images are decoded with javax.imageio.
 *
 * <p>Pipeline ({@link Pipeline}): convert to RGB (grayscale replicated) or to gray
 * (L = (19595·R + 38470·G + 7471·B + 2^15) >> 16, the ITU-R 601-2 luma of PIL's convert("L"));
 * resize so that the shorter side is {@code resize} (long side = floor(resize·long/short), as
 * torchvision), with a bilinear (triangle) filter whose support widens when downscaling
 * (antialiasing like PIL), horizontal pass then vertical pass, each rounded to uint8;
 * then a center crop of {@code crop}×{@code crop} with offsets rint((size − crop)/2).
 * This follows PIL/torchvision closely but is not guaranteed bit-identical to them.
 *
 * <p>An undecodable image throws {@link MalformedDataException} naming the file.
 */
public final class ImageFolder {
  private ImageFolder() {}

  /**
   * resize: target of the shorter side (0 = no resize); crop: square center crop (≤ resize when
   * resizing); grayscale: 1 channel instead of 3 (RGB).
   */
  public record Pipeline(int resize, int crop, boolean grayscale) {
    public static final Pipeline IMAGENET = new Pipeline(256, 224, false);

    public Pipeline {
      if (resize < 0 || crop <= 0 || (resize > 0 && crop > resize)) {
        throw new IllegalArgumentException(
            "pipeline needs resize >= 0, crop > 0 and crop <= resize; got " + resize + ", " + crop);
      }
    }

    public int channels() {
      return grayscale ? 1 : 3;
    }
  }

  private static final Comparator<Path> BY_NAME_BYTES = (a, b) -> Arrays.compareUnsigned(
      a.getFileName().toString().getBytes(StandardCharsets.UTF_8),
      b.getFileName().toString().getBytes(StandardCharsets.UTF_8));

  /** The class directory names, sorted (index = class). */
  public static List<String> classes(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    for (Path p : classDirs(root)) {
      out.add(p.getFileName().toString());
    }
    return out;
  }

  public static LabeledImages read(Path root, Pipeline pipe) throws IOException {
    List<Path> dirs = classDirs(root);
    if (dirs.isEmpty()) {
      throw new IOException(root + ": no class subdirectories");
    }
    List<Path> files = new ArrayList<>();
    List<Integer> labelList = new ArrayList<>();
    for (int c = 0; c < dirs.size(); c++) {
      int before = files.size();
      for (Path f : list(dirs.get(c))) {
        String lower = f.getFileName().toString().toLowerCase(Locale.ROOT);
        if (Files.isRegularFile(f) && (lower.endsWith(".jpg") || lower.endsWith(".jpeg")
            || lower.endsWith(".png"))) {
          files.add(f);
          labelList.add(c);
        }
      }
      if (files.size() == before) {
        // as torchvision's ImageFolder: an empty class folder would silently take a label
        throw new MalformedDataException(dirs.get(c), "class folder has no .jpg, .jpeg or .png "
            + "image (class " + c + " of " + dirs.size() + ")");
      }
    }
    int n = files.size();
    int ch = pipe.channels();
    int size = ch * pipe.crop() * pipe.crop();
    if ((long) n * size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(root + ": " + n + " images do not fit one array");
    }
    byte[] pixels = new byte[n * size];
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      byte[] img = load(files.get(i), pipe);
      System.arraycopy(img, 0, pixels, i * size, size);
      labels[i] = labelList.get(i);
    }
    return new LabeledImages(root.getFileName() == null ? root.toString()
        : root.getFileName().toString(), n, ch, pipe.crop(), pipe.crop(), pixels, labels,
        dirs.size(), LabeledImages.contentSha256(n, ch, pipe.crop(), pipe.crop(), dirs.size(),
        pixels, labels));
  }

  /** One image through the pipeline: CHW uint8 of size channels × crop × crop. */
  public static byte[] load(Path file, Pipeline pipe) throws IOException {
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException | RuntimeException e) {
      throw new MalformedDataException(file, "cannot decode image: " + (e.getMessage() == null
          ? e.getClass().getSimpleName() : e.getMessage()), e);
    }
    if (img == null) {
      throw new MalformedDataException(file, "not a readable image (no javax.imageio decoder)");
    }
    int w = img.getWidth();
    int h = img.getHeight();
    int[][] planes = toPlanes(img, pipe.grayscale());
    if (pipe.resize() > 0) {
      int shortSide = Math.min(w, h);
      int nw = w <= h ? pipe.resize() : (int) ((long) pipe.resize() * w / shortSide);
      int nh = h <= w ? pipe.resize() : (int) ((long) pipe.resize() * h / shortSide);
      for (int c = 0; c < planes.length; c++) {
        planes[c] = resize(planes[c], w, h, nw, nh);
      }
      w = nw;
      h = nh;
    }
    int crop = pipe.crop();
    if (crop > w || crop > h) {
      throw new MalformedDataException(file, "image " + w + "x" + h + " smaller than crop " + crop);
    }
    int top = (int) Math.rint((h - crop) / 2.0);
    int left = (int) Math.rint((w - crop) / 2.0);
    byte[] out = new byte[planes.length * crop * crop];
    for (int c = 0; c < planes.length; c++) {
      for (int y = 0; y < crop; y++) {
        for (int x = 0; x < crop; x++) {
          out[(c * crop + y) * crop + x] = (byte) planes[c][(top + y) * w + left + x];
        }
      }
    }
    return out;
  }

  /** Channel planes 0..255 (1 for gray, 3 for RGB), row-major. */
  private static int[][] toPlanes(BufferedImage img, boolean gray) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] r = new int[w * h];
    int[] g = new int[w * h];
    int[] b = new int[w * h];
    if (img.getType() == BufferedImage.TYPE_BYTE_GRAY) {
      // read samples directly: getRGB would pass gray through a linear-to-sRGB conversion
      Raster ras = img.getRaster();
      ras.getSamples(0, 0, w, h, 0, r);
      if (gray) {
        return new int[][] {r};
      }
      return new int[][] {r, r.clone(), r.clone()};
    }
    int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
    for (int i = 0; i < argb.length; i++) {
      r[i] = (argb[i] >>> 16) & 0xff;
      g[i] = (argb[i] >>> 8) & 0xff;
      b[i] = argb[i] & 0xff;
    }
    if (gray) {
      int[] l = new int[w * h];
      for (int i = 0; i < l.length; i++) {
        l[i] = (19595 * r[i] + 38470 * g[i] + 7471 * b[i] + 0x8000) >> 16;
      }
      return new int[][] {l};
    }
    return new int[][] {r, g, b};
  }

  /** Separable triangle-filter resize of one plane: horizontal, round, vertical, round. */
  static int[] resize(int[] src, int w, int h, int nw, int nh) {
    int[] tmp = w == nw ? src : pass(src, w, h, nw, true);
    return h == nh ? tmp : pass(tmp, nw, h, nh, false);
  }

  private static int[] pass(int[] src, int w, int h, int outLen, boolean horizontal) {
    int inLen = horizontal ? w : h;
    double scale = (double) inLen / outLen;
    double filterScale = Math.max(scale, 1.0);
    double support = filterScale; // triangle filter support 1, widened when downscaling
    int ow = horizontal ? outLen : w;
    int oh = horizontal ? h : outLen;
    int[] out = new int[ow * oh];
    for (int o = 0; o < outLen; o++) {
      double center = (o + 0.5) * scale;
      int lo = Math.max((int) (center - support + 0.5), 0);
      int hi = Math.min((int) (center + support + 0.5), inLen);
      double[] wts = new double[Math.max(hi - lo, 0)];
      double sum = 0;
      for (int i = lo; i < hi; i++) {
        double t = Math.abs((i - center + 0.5) / filterScale);
        double wt = t < 1 ? 1 - t : 0;
        wts[i - lo] = wt;
        sum += wt;
      }
      for (int k = 0; k < wts.length; k++) {
        wts[k] = sum > 0 ? wts[k] / sum : 0;
      }
      int other = horizontal ? h : w;
      for (int q = 0; q < other; q++) {
        double acc = 0;
        for (int i = lo; i < hi; i++) {
          int idx = horizontal ? q * w + i : i * w + q;
          acc += wts[i - lo] * src[idx];
        }
        int v = (int) Math.floor(acc + 0.5);
        int dst = horizontal ? q * ow + o : o * ow + q;
        out[dst] = Math.min(255, Math.max(0, v));
      }
    }
    return out;
  }

  private static List<Path> classDirs(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IOException(root + ": not a directory");
    }
    List<Path> dirs = new ArrayList<>();
    for (Path p : list(root)) {
      if (Files.isDirectory(p)) {
        dirs.add(p);
      }
    }
    return dirs;
  }

  /** Non-hidden entries of a directory, sorted by name in UTF-8 byte order. */
  private static List<Path> list(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
      for (Path p : ds) {
        if (!p.getFileName().toString().startsWith(".")) {
          out.add(p);
        }
      }
    }
    out.sort(BY_NAME_BYTES);
    return out;
  }
}
