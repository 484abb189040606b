package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.qlimit.util.Hashing;

/** The committed datasets/ folder: checksums, sizes, label counts, and the 5k derivation. */
class EmbeddedDatasetsTest {
  private static final Path DATASETS = Path.of("datasets");
  private static final Path SHARED_FMNIST = Path.of("..", "shared", "data", "fashion-mnist");

  @Test
  void everyFileMatchesSha256Sums() throws IOException {
    List<String> lines = Files.readAllLines(DATASETS.resolve("SHA256SUMS"), StandardCharsets.UTF_8);
    assertThat(lines).hasSizeGreaterThanOrEqualTo(8);
    for (String line : lines) {
      String sha = line.substring(0, 64);
      String path = line.substring(66);
      assertThat(line.substring(64, 66)).isEqualTo("  ");
      assertThat(Hashing.sha256(DATASETS.resolve(path))).as(path).isEqualTo(sha);
    }
    assertThat(lines).anyMatch(l -> l.startsWith(
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa  "
            + "fashion-mnist/t10k-images-idx3-ubyte.gz"));
    assertThat(lines).anyMatch(l -> l.startsWith(
        "f53bb7a0e85af02f8cf9e394647238accc473f8314e31d62003c314976bd4d85  "
            + "models/resnet20_fmnist.safetensors"));
  }

  @Test
  void embeddedFashionMnistResolvesWithExpectedSizes() throws IOException {
    Datasets.Split s = Datasets.load("fashion-mnist", null);
    LabeledImages test = s.test();
    assertThat(test.n()).isEqualTo(10_000);
    assertThat(test.height()).isEqualTo(28);
    assertThat(test.width()).isEqualTo(28);
    assertThat(test.channels()).isEqualTo(1);
    int[] thousand = new int[10];
    Arrays.fill(thousand, 1000);
    assertThat(test.labelCounts()).isEqualTo(thousand);
    LabeledImages train = s.train();
    assertThat(train.n()).isEqualTo(5000);
    assertThat(train.name()).isEqualTo("fashion-mnist/train-5k");
    assertThat(train.labelCounts())
        .containsExactly(457, 556, 504, 501, 488, 493, 493, 512, 490, 506);
  }

  @Test
  void train5kEqualsFirst5000OfFullTrainingFile() throws IOException {
    Path img = SHARED_FMNIST.resolve("train-images-idx3-ubyte.gz");
    Path lab = SHARED_FMNIST.resolve("train-labels-idx1-ubyte.gz");
    assumeThat(Files.isRegularFile(img) && Files.isRegularFile(lab)).isTrue();
    LabeledImages full = Idx.readImages(img, lab);
    assertThat(full.n()).isEqualTo(60_000);
    Path dir = DATASETS.resolve("fashion-mnist");
    LabeledImages k5 = Idx.readImages(dir.resolve("train-5k-images-idx3-ubyte.gz"),
        dir.resolve("train-5k-labels-idx1-ubyte.gz"));
    LabeledImages prefix = full.subset(0, 5000);
    assertThat(k5.pixels()).isEqualTo(prefix.pixels());
    assertThat(k5.labels()).isEqualTo(prefix.labels());
  }
}
