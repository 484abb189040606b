package org.qlimit.train;

import java.util.SplittableRandom;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.util.Check;

/**
 * Training-time augmentation in torchvision's order: RandomCrop(size, padding = pad) with zero
 * (black) padding of the uint8 image, then RandomHorizontalFlip(0.5), then ToTensor and Normalize
 * (the same float arithmetic as {@link LabeledImages#fillBatch}, via {@link Normalization#apply}).
 *
 * <p>Per image, in batch order, three numbers are drawn from the generator: the crop offset
 * dy ∈ [0, 2·pad], then dx ∈ [0, 2·pad], then the flip (a boolean), so a batch's augmentation
 * depends only on the generator's state, never on threads.
 */
public final class Augment {
  private Augment() {}

  /** torchvision's usual padding: 2 pixels for 28×28 images, 4 for 32×32 (and larger). */
  public static int defaultPad(int size) {
    return size <= 28 ? 2 : 4;
  }

  /**
   * Writes augmented, normalised images {@code indices[b]} into out (N, C, H, W):
   * out[b, c, y, x] = norm(crop[c, y, flip ? W−1−x : x]) with
   * crop[c, y, x] = image[c, y + dy − pad, x + dx − pad], or pixel 0 outside the image.
   * out: Modified (first indices.length·C·H·W elements). rng: Modified (advanced). Others: Not
   * modified.
   */
  public static void padCropFlip(float[] out, LabeledImages set, int[] indices, Normalization norm,
      int pad, SplittableRandom rng) {
    int c = set.channels();
    int h = set.height();
    int w = set.width();
    int size = set.imageSize();
    Check.arg(pad >= 0, "augment: pad must be >= 0, got %d", pad);
    Check.arg(norm.channels() == c, "augment: normalization has %d channels, images have %d",
        norm.channels(), c);
    Check.arg(out.length >= (long) indices.length * size,
        "augment: out has %d elements, %d images need %d", out.length, indices.length,
        (long) indices.length * size);
    byte[] px = set.pixels();
    float[] zero = new float[c];
    for (int ch = 0; ch < c; ch++) {
      zero[ch] = norm.apply(0, ch);
    }
    for (int b = 0; b < indices.length; b++) {
      int idx = indices[b];
      Check.arg(idx >= 0 && idx < set.n(), "augment: image index %d outside 0..%d", idx,
          set.n() - 1);
      int dy = rng.nextInt(2 * pad + 1) - pad;
      int dx = rng.nextInt(2 * pad + 1) - pad;
      boolean flip = rng.nextBoolean();
      int src = idx * size;
      int dst = b * size;
      for (int ch = 0; ch < c; ch++) {
        int plane = ch * h * w;
        for (int y = 0; y < h; y++) {
          int sy = y + dy;
          for (int x = 0; x < w; x++) {
            int sx = (flip ? w - 1 - x : x) + dx;
            float v;
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
              v = zero[ch];
            } else {
              v = norm.apply(px[src + plane + sy * w + sx] & 0xff, ch);
            }
            out[dst + plane + y * w + x] = v;
          }
        }
      }
    }
  }
}
