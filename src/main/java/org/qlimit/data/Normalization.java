package org.qlimit.data;

import java.util.Arrays;

/**
 * Per-channel input normalization, applied to uint8 pixels p as
 * <pre>  x = (p / 255f - mean[c]) / std[c]</pre>
 * entirely in float32: first {@code p / 255f} (a correctly rounded float division, as PyTorch's
 * {@code ToTensor} computes {@code p.float().div(255)}), then a float subtraction and a float
 * division (as {@code Normalize} computes {@code (x - mean) / std} in float32). The golden logits
 * in {@code datasets/models} were produced with exactly this arithmetic, so do not rewrite it as
 * {@code p * (1 / (255 * std)) - ...}: that rounds differently.
 *
 * <p>The arrays are copied on construction and on access.
 */
public record Normalization(float[] mean, float[] std) {
  /** Fashion-MNIST (1 channel), as used to train {@code datasets/models/resnet20_fmnist}. */
  public static final Normalization FASHION_MNIST =
      new Normalization(new float[] {0.2860f}, new float[] {0.3530f});

  /** The CIFAR-10 ResNets of the project (R, G, B); the ImageNet statistics. */
  public static final Normalization CIFAR10 = new Normalization(
      new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

  /** ImageNet (R, G, B). */
  public static final Normalization IMAGENET = new Normalization(
      new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

  /** Plain p / 255 for any channel count. */
  public static Normalization unit(int channels) {
    float[] m = new float[channels];
    float[] s = new float[channels];
    Arrays.fill(s, 1f);
    return new Normalization(m, s);
  }

  public Normalization {
    if (mean == null || std == null || mean.length == 0 || mean.length != std.length) {
      throw new IllegalArgumentException("mean and std must be non-empty and of equal length");
    }
    mean = mean.clone();
    std = std.clone();
    for (int c = 0; c < mean.length; c++) {
      if (!Float.isFinite(mean[c]) || !(std[c] > 0) || !Float.isFinite(std[c])) {
        throw new IllegalArgumentException("channel " + c + ": mean " + mean[c] + ", std " + std[c]
            + " (need finite mean and finite std > 0)");
      }
    }
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  public int channels() {
    return mean.length;
  }

  /** The normalized value of pixel {@code p} (0..255) in channel {@code c}. */
  public float apply(int p, int c) {
    return (p / 255f - mean[c]) / std[c];
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Normalization n && Arrays.equals(mean, n.mean) && Arrays.equals(std, n.std);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(mean) + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return "Normalization[mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + "]";
  }
}
