package org.qlimit.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Resolves a dataset name (and an optional directory) to its train and test sets.
 *
 * <ul>
 *   <li>{@code fashion-mnist} (alias {@code fmnist}): IDX files, plain or {@code .gz}. Train is
 *       {@code train-images-idx3-ubyte} + {@code train-labels-idx1-ubyte} when present, else the
 *       embedded subset {@code train-5k-images-idx3-ubyte} + {@code train-5k-labels-idx1-ubyte}
 *       (5,000 images); test is {@code t10k-images-idx3-ubyte} + {@code t10k-labels-idx1-ubyte}.
 *       Without a directory, the embedded copy {@code datasets/fashion-mnist} is used, looked up
 *       in this order: {@code <qlimit.home>/datasets/fashion-mnist} (system property
 *       {@code qlimit.home}), {@code <QLIMIT_HOME>/datasets/fashion-mnist} (environment
 *       variable), then {@code datasets/fashion-mnist} relative to the working directory (the
 *       repository root). The first folder that exists is used.
 *   <li>{@code cifar10} (alias {@code cifar-10}): a directory is required (nothing embedded).
 *       Train is {@code data_batch_1.bin .. data_batch_5.bin} (those present, in number order),
 *       else {@code data_batch_1_first4000.bin}; test is {@code test_batch.bin}, else
 *       {@code test_batch_jpeg_q75.bin}.
 * </ul>
 * When nothing is found, a FileNotFoundException lists every path that was looked for.
 */
public final class Datasets {
  public static final String HOME_PROPERTY = "qlimit.home";
  public static final String HOME_ENV = "QLIMIT_HOME";

  private Datasets() {}

  /** The dataset names {@link #load} accepts (with their aliases fmnist, cifar-10, imagenet). */
  public static final List<String> NAMES = List.of("fashion-mnist", "cifar10", "imagefolder");

  /** Whether {@link #load} knows {@code name} (case-insensitive; aliases included). */
  public static boolean isKnown(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fashion-mnist", "fmnist", "cifar10", "cifar-10", "imagefolder", "imagenet" -> true;
      default -> false;
    };
  }

  /**
   * The two splits of a dataset and the folder they were read from.
   *
   * @param dataset the canonical name (fashion-mnist, cifar10 or imagefolder)
   */
  public record Split(String dataset, Path directory, LabeledImages train, LabeledImages test) {
    /** The input normalization of the models trained on this dataset ({@link #normalization}). */
    public Normalization normalization() {
      return Datasets.normalization(dataset);
    }
  }

  /**
   * The input normalization of the models trained on dataset {@code name} (case-insensitive,
   * aliases accepted): {@link Normalization#FASHION_MNIST} for fashion-mnist,
   * {@link Normalization#CIFAR10} for cifar10, {@link Normalization#IMAGENET} for imagefolder.
   *
   * @throws IllegalArgumentException for a name {@link #isKnown} does not know
   */
  public static Normalization normalization(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "fashion-mnist", "fmnist" -> Normalization.FASHION_MNIST;
      case "cifar10", "cifar-10" -> Normalization.CIFAR10;
      case "imagefolder", "imagenet" -> Normalization.IMAGENET;
      default -> throw new IllegalArgumentException("no normalization known for " + name);
    };
  }

  /** Resolves {@code name}; {@code dir} may be null for the embedded copy (when there is one). */
  public static Split load(String name, Path dir) throws IOException {
    String key = name.toLowerCase(Locale.ROOT);
    switch (key) {
      case "fashion-mnist", "fmnist" -> {
        Path d = dir != null ? dir : embeddedDir("fashion-mnist");
        return fashionMnist(d);
      }
      case "cifar10", "cifar-10" -> {
        if (dir == null) {
          throw new FileNotFoundException("cifar10: no embedded copy; pass the directory holding "
              + "data_batch_*.bin and test_batch.bin (CIFAR-10 binary version from "
              + "https://www.cs.toronto.edu/~kriz/cifar.html)");
        }
        return cifar10(dir);
      }
      case "imagefolder", "imagenet" -> {
        if (dir == null) {
          throw new FileNotFoundException(name + ": pass --data-dir with train/ and val/ folders "
              + "of class sub-folders (the torchvision ImageFolder layout)");
        }
        return imageFolder(dir);
      }
      default -> throw new IllegalArgumentException(
          "unknown dataset '" + name + "' (known: fashion-mnist, cifar10, imagefolder)");
    }
  }

  /** The candidate folders for an embedded dataset, in lookup order. */
  public static List<Path> embeddedCandidates(String folder) {
    List<Path> c = new ArrayList<>();
    String prop = System.getProperty(HOME_PROPERTY);
    if (prop != null && !prop.isBlank()) {
      c.add(Path.of(prop, "datasets", folder));
    }
    String env = System.getenv(HOME_ENV);
    if (env != null && !env.isBlank()) {
      c.add(Path.of(env, "datasets", folder));
    }
    c.add(Path.of("datasets", folder).toAbsolutePath());
    return c;
  }

  /** The first existing embedded folder; FileNotFoundException listing the candidates otherwise. */
  public static Path embeddedDir(String folder) throws FileNotFoundException {
    List<Path> cands = embeddedCandidates(folder);
    for (Path p : cands) {
      if (Files.isDirectory(p)) {
        return p;
      }
    }
    throw new FileNotFoundException("embedded dataset folder " + folder + " not found; looked in "
        + cands + " (set -D" + HOME_PROPERTY + "=<repository root> or " + HOME_ENV
        + ", run from the repository root, or pass a directory)");
  }

  private static Split fashionMnist(Path dir) throws IOException {
    List<Path> tried = new ArrayList<>();
    Optional<Path> trImg = first(dir, tried, "train-images-idx3-ubyte", "train-5k-images-idx3-ubyte");
    boolean full = trImg.isPresent() && trImg.get().getFileName().toString().startsWith("train-images");
    Optional<Path> trLab = full ? first(dir, tried, "train-labels-idx1-ubyte")
        : first(dir, tried, "train-5k-labels-idx1-ubyte");
    Optional<Path> teImg = first(dir, tried, "t10k-images-idx3-ubyte");
    Optional<Path> teLab = first(dir, tried, "t10k-labels-idx1-ubyte");
    if (trImg.isEmpty() || trLab.isEmpty() || teImg.isEmpty() || teLab.isEmpty()) {
      throw new FileNotFoundException("fashion-mnist: missing files in " + dir + "; looked for "
          + tried);
    }
    LabeledImages train = Idx.readImages(trImg.get(), trLab.get(), 10,
        full ? "fashion-mnist/train" : "fashion-mnist/train-5k");
    LabeledImages test = Idx.readImages(teImg.get(), teLab.get(), 10, "fashion-mnist/test");
    return new Split("fashion-mnist", dir, train, test);
  }

  /**
   * An ImageNet-style tree: {@code dir/train/<class>/*} (optional: when absent, the evaluation
   * split is also used as the training split, e.g. for calibration) and {@code dir/val/<class>/*}
   * (or {@code dir/test}), read with the resize-256 / center-crop-224 pipeline.
   */
  private static Split imageFolder(Path dir) throws IOException {
    Path val = java.nio.file.Files.isDirectory(dir.resolve("val")) ? dir.resolve("val")
        : dir.resolve("test");
    if (!java.nio.file.Files.isDirectory(dir)) {
      throw new FileNotFoundException("--data-dir " + dir + ": folder not found");
    }
    if (!java.nio.file.Files.isDirectory(val)) {
      throw new FileNotFoundException(dir + ": no val/ or test/ folder of class sub-folders");
    }
    // named like the other sets ("imagefolder/val"), so that messages say which tree was read
    LabeledImages test = ImageFolder.read(val, ImageFolder.Pipeline.IMAGENET)
        .withName("imagefolder/" + val.getFileName());
    Path train = dir.resolve("train");
    LabeledImages tr = java.nio.file.Files.isDirectory(train)
        ? ImageFolder.read(train, ImageFolder.Pipeline.IMAGENET).withName("imagefolder/train")
        : test;
    return new Split("imagefolder", dir, tr, test);
  }

  private static Split cifar10(Path dir) throws IOException {
    List<Path> tried = new ArrayList<>();
    List<Path> train = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      Path p = dir.resolve("data_batch_" + i + ".bin");
      tried.add(p);
      if (Files.isRegularFile(p)) {
        train.add(p);
      }
    }
    String trainName = "cifar10/train";
    if (train.isEmpty()) {
      first(dir, tried, List.of("data_batch_1_first4000.bin")).ifPresent(train::add);
      trainName = "cifar10/data_batch_1_first4000";
    }
    Optional<Path> test = first(dir, tried, List.of("test_batch.bin"));
    String testName = "cifar10/test";
    if (test.isEmpty()) {
      test = first(dir, tried, List.of("test_batch_jpeg_q75.bin"));
      testName = "cifar10/test_jpeg_q75";
    }
    if (train.isEmpty() || test.isEmpty()) {
      throw new FileNotFoundException("cifar10: missing files in " + dir + "; looked for " + tried);
    }
    return new Split("cifar10", dir, Cifar10Bin.read(train, trainName),
        Cifar10Bin.read(List.of(test.get()), testName));
  }

  /** The first of base, base.gz for each base in order. */
  private static Optional<Path> first(Path dir, List<Path> tried, String... bases) {
    List<String> names = new ArrayList<>();
    for (String b : bases) {
      names.add(b);
      names.add(b + ".gz");
    }
    return first(dir, tried, names);
  }

  private static Optional<Path> first(Path dir, List<Path> tried, List<String> names) {
    for (String n : names) {
      Path p = dir.resolve(n);
      tried.add(p);
      if (Files.isRegularFile(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
