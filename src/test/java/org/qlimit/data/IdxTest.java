package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX reading: plain and gzip, and strict rejection of malformed files. */
class IdxTest {
  @TempDir Path dir;

  static byte[] images(int n, int h, int w) {
    ByteBuffer bb = ByteBuffer.allocate(16 + n * h * w);
    bb.putInt(Idx.IMAGES_MAGIC).putInt(n).putInt(h).putInt(w);
    for (int i = 0; i < n * h * w; i++) {
      bb.put((byte) (i * 7));
    }
    return bb.array();
  }

  static byte[] labels(int... ls) {
    ByteBuffer bb = ByteBuffer.allocate(8 + ls.length);
    bb.putInt(Idx.LABELS_MAGIC).putInt(ls.length);
    for (int l : ls) {
      bb.put((byte) l);
    }
    return bb.array();
  }

  static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
      gz.write(b);
    }
    return bos.toByteArray();
  }

  private Path file(String name, byte[] b) throws IOException {
    Path f = dir.resolve(name);
    Files.write(f, b);
    return f;
  }

  @Test
  void readsPlainAndGzipIdentically() throws IOException {
    byte[] img = images(3, 4, 5);
    byte[] lab = labels(0, 9, 4);
    LabeledImages a = Idx.readImages(file("i", img), file("l", lab));
    LabeledImages b = Idx.readImages(file("i.gz", gzip(img)), file("l.gz", gzip(lab)));
    assertThat(a.n()).isEqualTo(3);
    assertThat(a.channels()).isEqualTo(1);
    assertThat(a.height()).isEqualTo(4);
    assertThat(a.width()).isEqualTo(5);
    assertThat(a.labels()).containsExactly(0, 9, 4);
    assertThat(a.pixels()).isEqualTo(Arrays.copyOfRange(img, 16, img.length));
    assertThat(b.pixels()).isEqualTo(a.pixels());
    assertThat(b.sourceSha256()).isEqualTo(a.sourceSha256()).hasSize(64);
  }

  private void assertMalformed(Path f, Path labelsFile, String... fragments) {
    var t = assertThatThrownBy(() -> Idx.readImages(f, labelsFile))
        .isInstanceOf(MalformedDataException.class);
    for (String s : fragments) {
      t.hasMessageContaining(s);
    }
  }

  @Test
  void rejectsMalformedFiles() throws IOException {
    Path lab = file("lab", labels(1, 2));
    byte[] img = images(2, 3, 3);
    assertMalformed(file("wrongmagic", labels(1, 2)), lab, "wrongmagic", "magic");
    byte[] dims = img.clone();
    dims[3] = 4; // 0x804: four dims
    assertMalformed(file("dims", dims), lab, "dims", "magic");
    assertMalformed(file("trunc", Arrays.copyOf(img, img.length - 1)), lab, "trunc", "truncated");
    assertMalformed(file("hdr", Arrays.copyOf(img, 10)), lab, "hdr", "truncated");
    assertMalformed(file("trail", Arrays.copyOf(img, img.length + 1)), lab, "trail", "trailing");
    ByteBuffer lying = ByteBuffer.wrap(img.clone());
    lying.putInt(4, Integer.MAX_VALUE).putInt(8, 1 << 20);
    assertMalformed(file("lying", lying.array()), lab, "lying");
    assertMalformed(file("ok", img), file("lab3", labels(1, 2, 3)), "lab3", "3 labels");
    assertMalformed(file("ok2", img), file("lab10", labels(1, 10)), "lab10", "label 10");
    byte[] gz = gzip(img);
    gz[gz.length / 2] ^= 0x5a;
    gz[gz.length / 2 + 1] ^= 0x33;
    assertMalformed(file("corrupt.gz", gz), lab, "corrupt.gz");
    assertMalformed(file("cut.gz", Arrays.copyOf(gzip(img), 20)), lab, "cut.gz");
    Files.write(dir.resolve("empty"), new byte[0]);
    assertMalformed(dir.resolve("empty"), lab, "empty");
  }

  @Test
  void fuzzedFilesEitherReadOrFailCleanly() throws IOException {
    byte[] img = images(4, 5, 5);
    byte[] gz = gzip(img);
    Path lab = file("lab", labels(1, 2, 3, 4));
    SplittableRandom rng = new SplittableRandom(7);
    Path f = dir.resolve("fuzz");
    for (int trial = 0; trial < 500; trial++) {
      byte[] b = (trial % 2 == 0 ? img : gz).clone();
      for (int m = 1 + rng.nextInt(3); m > 0; m--) {
        b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
      }
      if (rng.nextInt(4) == 0) {
        b = Arrays.copyOf(b, rng.nextInt(b.length + 1));
      }
      Files.write(f, b);
      try {
        Idx.readImages(f, lab);
      } catch (MalformedDataException e) {
        assertThat(e.getMessage()).contains(f.toString());
      }
    }
  }
}
