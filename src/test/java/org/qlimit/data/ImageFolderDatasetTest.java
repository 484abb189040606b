package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** The "imagefolder" dataset name: val/ (or test/) and optional train/ trees, 3×224×224. */
class ImageFolderDatasetTest extends QuietTest {
  @TempDir Path dir;

  private void png(Path f, int rgb) throws Exception {
    Files.createDirectories(f.getParent());
    BufferedImage img = new BufferedImage(300, 260, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 260; y++) {
      for (int x = 0; x < 300; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    ImageIO.write(img, "png", f.toFile());
  }

  @Test
  void readsValAndFallsBackToItForTraining() throws Exception {
    png(dir.resolve("val/cat/1.png"), 0x102030);
    png(dir.resolve("val/dog/2.png"), 0x405060);
    Datasets.Split s = Datasets.load("imagefolder", dir);
    assertThat(s.test().n()).isEqualTo(2);
    assertThat(s.test().channels()).isEqualTo(3);
    assertThat(s.test().height()).isEqualTo(224);
    assertThat(s.test().width()).isEqualTo(224);
    assertThat(s.test().labels()).containsExactly(0, 1);
    assertThat(s.train()).isSameAs(s.test());
    assertThat(s.test().name()).isEqualTo("imagefolder/val");
  }

  @Test
  void missingFoldersAreClearErrors() {
    assertThatThrownBy(() -> Datasets.load("imagefolder", null))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("--data-dir");
    assertThatThrownBy(() -> Datasets.load("imagefolder", dir))
        .isInstanceOf(FileNotFoundException.class).hasMessageContaining("val/");
  }
}
