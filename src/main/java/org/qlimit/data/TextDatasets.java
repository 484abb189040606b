package org.qlimit.data;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The sentence-classification data sets by name, read with {@link SentenceFiles}; see
 * datasets/README.md for provenance, checksums and licenses.
 *
 * <ul>
 *   <li>{@code sst2}: binary Stanford Sentiment Treebank, sentence level (Socher et al. 2013),
 *       files {@code stsa.binary.train} (6,920), {@code .dev} (872), {@code .test} (1,821),
 *       UTF-8, labels 0 negative / 1 positive. The evaluation split is dev.</li>
 *   <li>{@code trec}: TREC question classification, 6 coarse classes (Li and Roth 2002), files
 *       {@code TREC.train.all} (5,452) and {@code TREC.test.all} (500), read as ISO-8859-1 (the
 *       training file holds one byte that is not UTF-8). Labels 0 DESC, 1 ENTY, 2 ABBR, 3 HUM,
 *       4 LOC, 5 NUM. The evaluation split is test (there is no dev split).</li>
 * </ul>
 */
public final class TextDatasets {
  private TextDatasets() {}

  /** The names {@link #load} accepts. */
  public static final List<String> NAMES = List.of("sst2", "trec");

  /** Whether {@link #load} knows {@code name} (case-insensitive; sst-2 and trec6 accepted). */
  public static boolean isKnown(String name) {
    return canonical(name) != null;
  }

  private static String canonical(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "sst2", "sst-2" -> "sst2";
      case "trec", "trec6", "trec-6" -> "trec";
      default -> null;
    };
  }

  /**
   * The splits of a data set and the folder they were read from. {@code dev} is null when the set
   * has none.
   */
  public record Split(String dataset, Path directory, LabeledSentences train,
      LabeledSentences dev, LabeledSentences test, List<String> classNames) {
    /** The split accuracy is reported on: dev when there is one, else test. */
    public LabeledSentences eval() {
      return dev != null ? dev : test;
    }
  }

  /** Loads {@code name} from {@code dir}, or from the embedded copy when dir is null. */
  public static Split load(String name, Path dir) throws IOException {
    String key = canonical(name);
    if (key == null) {
      throw new IllegalArgumentException(
          "unknown text dataset '" + name + "' (known: " + String.join(", ", NAMES) + ")");
    }
    Path d = dir != null ? dir : Datasets.embeddedDir(key);
    if (!Files.isDirectory(d)) {
      throw new FileNotFoundException("--data-dir " + d + ": folder not found");
    }
    if (key.equals("sst2")) {
      return new Split("sst2", d,
          SentenceFiles.read(d.resolve("stsa.binary.train"), StandardCharsets.UTF_8, 2, "sst2/train"),
          SentenceFiles.read(d.resolve("stsa.binary.dev"), StandardCharsets.UTF_8, 2, "sst2/dev"),
          SentenceFiles.read(d.resolve("stsa.binary.test"), StandardCharsets.UTF_8, 2, "sst2/test"),
          List.of("negative", "positive"));
    }
    return new Split("trec", d,
        SentenceFiles.read(d.resolve("TREC.train.all"), StandardCharsets.ISO_8859_1, 6, "trec/train"),
        null,
        SentenceFiles.read(d.resolve("TREC.test.all"), StandardCharsets.ISO_8859_1, 6, "trec/test"),
        List.of("DESC", "ENTY", "ABBR", "HUM", "LOC", "NUM"));
  }
}
