package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
  @TempDir Path dir;

  @Test
  void cifarDirectoryWithEitherNaming() throws IOException {
    Files.write(dir.resolve("data_batch_1_first4000.bin"), Cifar10BinTest.records(1, 2));
    Files.write(dir.resolve("test_batch_jpeg_q75.bin"), Cifar10BinTest.records(3));
    Datasets.Split s = Datasets.load("cifar10", dir);
    assertThat(s.train().n()).isEqualTo(2);
    assertThat(s.test().labels()).containsExactly(3);
    Files.write(dir.resolve("data_batch_2.bin"), Cifar10BinTest.records(4));
    Files.write(dir.resolve("data_batch_1.bin"), Cifar10BinTest.records(5, 6));
    Files.write(dir.resolve("test_batch.bin"), Cifar10BinTest.records(7));
    Datasets.Split full = Datasets.load("CIFAR-10", dir);
    assertThat(full.train().labels()).containsExactly(5, 6, 4);
    assertThat(full.test().labels()).containsExactly(7);
  }

  @Test
  void fashionMnistUserDirectoryPlainFiles() throws IOException {
    Files.write(dir.resolve("train-images-idx3-ubyte"), IdxTest.images(2, 28, 28));
    Files.write(dir.resolve("train-labels-idx1-ubyte"), IdxTest.labels(3, 4));
    Files.write(dir.resolve("t10k-images-idx3-ubyte.gz"),
        IdxTest.gzip(IdxTest.images(1, 28, 28)));
    Files.write(dir.resolve("t10k-labels-idx1-ubyte.gz"), IdxTest.gzip(IdxTest.labels(9)));
    Datasets.Split s = Datasets.load("fmnist", dir);
    assertThat(s.train().labels()).containsExactly(3, 4);
    assertThat(s.train().name()).isEqualTo("fashion-mnist/train");
    assertThat(s.test().labels()).containsExactly(9);
  }

  @Test
  void missingFilesListWhatWasLookedFor() {
    assertThatThrownBy(() -> Datasets.load("fashion-mnist", dir))
        .isInstanceOf(FileNotFoundException.class)
        .hasMessageContaining("train-images-idx3-ubyte.gz")
        .hasMessageContaining("t10k-labels-idx1-ubyte");
    assertThatThrownBy(() -> Datasets.load("cifar10", dir))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("test_batch.bin");
    assertThatThrownBy(() -> Datasets.load("cifar10", null))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("toronto");
    assertThatThrownBy(() -> Datasets.load("mnist-ish", null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fashion-mnist");
  }

  @Test
  void embeddedLookupHonoursHomeProperty() throws IOException {
    String old = System.getProperty(Datasets.HOME_PROPERTY);
    try {
      Files.createDirectories(dir.resolve("datasets/fashion-mnist"));
      System.setProperty(Datasets.HOME_PROPERTY, dir.toString());
      assertThat(Datasets.embeddedDir("fashion-mnist"))
          .isEqualTo(dir.resolve("datasets/fashion-mnist"));
      assertThatThrownBy(() -> Datasets.embeddedDir("nothing-here"))
          .isInstanceOf(FileNotFoundException.class)
          .hasMessageContaining(dir.resolve("datasets/nothing-here").toString());
    } finally {
      if (old == null) {
        System.clearProperty(Datasets.HOME_PROPERTY);
      } else {
        System.setProperty(Datasets.HOME_PROPERTY, old);
      }
    }
  }

  @Test
  void sharedCifarFilesWhenPresent() throws IOException {
    Path shared = Path.of("..", "shared", "data", "cifar10");
    assumeThat(Files.isRegularFile(shared.resolve("data_batch_1_first4000.bin"))).isTrue();
    Datasets.Split s = Datasets.load("cifar10", shared);
    assertThat(s.train().n()).isEqualTo(4000);
    assertThat(s.train().labelCounts())
        .containsExactly(396, 366, 420, 384, 422, 393, 414, 385, 407, 413);
    assertThat(s.train().labels()).startsWith(6, 9, 9, 4, 1, 1, 2, 7, 8, 3);
    assertThat(s.test().n()).isEqualTo(10_000);
    assertThat(s.test().labels()[999]).isZero();
    assertThat(s.test().labels()[1000]).isEqualTo(1);
  }
}
