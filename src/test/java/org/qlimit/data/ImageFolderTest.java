package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderTest {
  @TempDir Path dir;

  private static void png(Path f, int w, int h, int rgb) throws IOException {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    Files.createDirectories(f.getParent());
    ImageIO.write(img, "png", f.toFile());
  }

  @Test
  void readsSortedTreeWithResizeAndCrop() throws IOException {
    Path root = dir.resolve("tree");
    png(root.resolve("zebra/b.png"), 12, 8, 0x102030);
    png(root.resolve("zebra/a.png"), 8, 8, 0x405060);
    png(root.resolve("ant/x.PNG"), 10, 20, 0xff0000);
    Files.writeString(root.resolve("ant/readme.txt"), "not an image");
    assertThat(ImageFolder.classes(root)).containsExactly("ant", "zebra");
    LabeledImages s = ImageFolder.read(root, new ImageFolder.Pipeline(6, 4, false));
    assertThat(s.n()).isEqualTo(3);
    assertThat(s.numClasses()).isEqualTo(2);
    assertThat(s.labels()).containsExactly(0, 1, 1);
    assertThat(s.channels()).isEqualTo(3);
    assertThat(s.height()).isEqualTo(4);
    // uniform colours survive the resample exactly; image 1 is zebra/a.png
    assertThat(s.pixels()[0] & 0xff).isEqualTo(255);
    assertThat(s.pixels()[16] & 0xff).isZero();
    int base = 48;
    assertThat(s.pixels()[base] & 0xff).isEqualTo(0x40);
    assertThat(s.pixels()[base + 16] & 0xff).isEqualTo(0x50);
    assertThat(s.pixels()[base + 32] & 0xff).isEqualTo(0x60);
    LabeledImages g = ImageFolder.read(root, new ImageFolder.Pipeline(0, 8, true));
    assertThat(g.channels()).isEqualTo(1);
    assertThat(g.pixels()[0] & 0xff).isEqualTo((19595 * 255 + 0x8000) >> 16);
  }

  @Test
  void resizeOfARampIsMonotoneAndKeepsEnds() {
    int[] src = new int[16];
    for (int i = 0; i < 16; i++) {
      src[i] = i * 17;
    }
    int[] out = ImageFolder.resize(src, 16, 1, 4, 1);
    assertThat(out).isSorted();
    assertThat(out[0]).isGreaterThanOrEqualTo(0);
    assertThat(ImageFolder.resize(src, 16, 1, 16, 1)).isEqualTo(src);
  }

  @Test
  void nonImageWithPngNameGivesClearError() throws IOException {
    Path root = dir.resolve("bad");
    png(root.resolve("cls/ok.png"), 4, 4, 0);
    Files.writeString(root.resolve("cls/fake.png"), "this is text, not a PNG");
    assertThatThrownBy(() -> ImageFolder.read(root, new ImageFolder.Pipeline(0, 4, false)))
        .isInstanceOf(MalformedDataException.class).hasMessageContaining("fake.png");
    byte[] truncated = Files.readAllBytes(root.resolve("cls/ok.png"));
    Files.delete(root.resolve("cls/fake.png"));
    Files.write(root.resolve("cls/cut.png"), java.util.Arrays.copyOf(truncated, 30));
    assertThatThrownBy(() -> ImageFolder.read(root, new ImageFolder.Pipeline(0, 4, false)))
        .isInstanceOf(MalformedDataException.class).hasMessageContaining("cut.png");
  }

  @Test
  void pipelineIsValidated() {
    assertThatThrownBy(() -> new ImageFolder.Pipeline(4, 8, false))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
