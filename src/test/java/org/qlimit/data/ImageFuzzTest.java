package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qlimit.testing.QuietTest;

/**
 * Mutated and truncated PNG and JPEG files: every outcome is either a decoded image or a
 * {@link MalformedDataException} naming the file, never another exception.
 */
class ImageFuzzTest extends QuietTest {
  @TempDir Path dir;

  private static byte[] encode(String format) throws IOException {
    BufferedImage img = new BufferedImage(40, 36, BufferedImage.TYPE_3BYTE_BGR);
    for (int y = 0; y < 36; y++) {
      for (int x = 0; x < 40; x++) {
        img.setRGB(x, y, (x * 6) << 16 | (y * 7) << 8 | ((x + y) * 3));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(img, format, out);
    return out.toByteArray();
  }

  @ParameterizedTest
  @ValueSource(strings = {"png", "jpg"})
  void mutatedImagesDecodeOrFailCleanly(String format) throws IOException {
    byte[] good = encode(format);
    SplittableRandom r = new SplittableRandom(11);
    ImageFolder.Pipeline pipe = new ImageFolder.Pipeline(32, 32, false);
    int decoded = 0;
    int rejected = 0;
    for (int i = 0; i < 150; i++) {
      byte[] b;
      if (i % 3 == 0) {
        b = java.util.Arrays.copyOf(good, r.nextInt(good.length));
      } else {
        b = good.clone();
        int flips = 1 + r.nextInt(8);
        for (int k = 0; k < flips; k++) {
          b[r.nextInt(b.length)] = (byte) r.nextInt(256);
        }
      }
      Path f = dir.resolve("img" + i + "." + format);
      Files.write(f, b);
      try {
        byte[] px = ImageFolder.load(f, pipe);
        assertThat(px).hasSize(3 * 32 * 32);
        decoded++;
      } catch (MalformedDataException e) {
        assertThat(e.getMessage()).contains(f.getFileName().toString());
        rejected++;
      }
    }
    assertThat(decoded + rejected).isEqualTo(150);
    assertThat(rejected).isPositive();
  }
}
