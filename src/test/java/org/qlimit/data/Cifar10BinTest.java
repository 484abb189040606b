package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Cifar10BinTest {
  @TempDir Path dir;

  static byte[] records(int... labels) {
    byte[] b = new byte[labels.length * Cifar10Bin.RECORD_BYTES];
    for (int r = 0; r < labels.length; r++) {
      int off = r * Cifar10Bin.RECORD_BYTES;
      b[off] = (byte) labels[r];
      for (int k = 0; k < Cifar10Bin.IMAGE_BYTES; k++) {
        b[off + 1 + k] = (byte) (r * 31 + k);
      }
    }
    return b;
  }

  @Test
  void readsRecordsAsChwPlanes() throws IOException {
    byte[] raw = records(6, 9, 0);
    Path f = dir.resolve("data_batch_1.bin");
    Files.write(f, raw);
    LabeledImages s = Cifar10Bin.read(f);
    assertThat(s.n()).isEqualTo(3);
    assertThat(s.channels()).isEqualTo(3);
    assertThat(s.height()).isEqualTo(32);
    assertThat(s.labels()).containsExactly(6, 9, 0);
    // record 1, green plane (c = 1), row 2, col 5
    int k = 1024 + 2 * 32 + 5;
    assertThat(s.pixels()[Cifar10Bin.IMAGE_BYTES + k]).isEqualTo(raw[3073 + 1 + k]);
    LabeledImages two = Cifar10Bin.read(List.of(f, f), "twice");
    assertThat(two.n()).isEqualTo(6);
    assertThat(Arrays.copyOfRange(two.pixels(), 3 * 3072, 6 * 3072)).isEqualTo(s.pixels());
  }

  @Test
  void rejectsBadSizesAndLabels() throws IOException {
    Path bad = dir.resolve("bad.bin");
    Files.write(bad, Arrays.copyOf(records(1, 2), 3073 * 2 - 5));
    assertThatThrownBy(() -> Cifar10Bin.read(bad)).isInstanceOf(MalformedDataException.class)
        .hasMessageContaining("bad.bin").hasMessageContaining("3073");
    Path empty = dir.resolve("empty.bin");
    Files.write(empty, new byte[0]);
    assertThatThrownBy(() -> Cifar10Bin.read(empty)).isInstanceOf(MalformedDataException.class);
    Path lab = dir.resolve("label.bin");
    Files.write(lab, records(1, 10));
    assertThatThrownBy(() -> Cifar10Bin.read(lab)).isInstanceOf(MalformedDataException.class)
        .hasMessageContaining("label.bin").hasMessageContaining("record 1")
        .hasMessageContaining("label 10");
  }

  @Test
  void fuzzedFilesEitherReadOrFailCleanly() throws IOException {
    byte[] valid = records(1, 2, 3);
    SplittableRandom rng = new SplittableRandom(11);
    Path f = dir.resolve("fuzz.bin");
    for (int trial = 0; trial < 100; trial++) {
      byte[] b = valid.clone();
      b[rng.nextInt(3) * 3073] = (byte) rng.nextInt(256);
      if (rng.nextInt(3) == 0) {
        b = Arrays.copyOf(b, rng.nextInt(b.length + 1));
      }
      Files.write(f, b);
      try {
        Cifar10Bin.read(f);
      } catch (MalformedDataException e) {
        assertThat(e.getMessage()).startsWith(f.toString());
      }
    }
  }
}
