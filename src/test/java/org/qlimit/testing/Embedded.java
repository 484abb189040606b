package org.qlimit.testing;

import java.io.IOException;
import java.nio.file.Path;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;

/** The embedded reference ResNet-20 and Fashion-MNIST calibration images, as tests load them. */
public final class Embedded {
  private Embedded() {}

  /** The path of the embedded Fashion-MNIST ResNet-20 (94.08 %). */
  public static final Path RESNET20 = Path.of("datasets/models/resnet20_fmnist.safetensors");

  /** The embedded ResNet-20, BatchNorm folded as every command loads it. */
  public static Model resnet20() throws IOException {
    return Architectures.load("resnet20-fmnist", RESNET20);
  }

  /**
   * The first {@code n} Fashion-MNIST training images, normalised, as the protocol calibrates
   * (N, 1, 28, 28).
   */
  public static Tensor calibration(int n) throws IOException {
    Datasets.Split d = Datasets.load("fashion-mnist", null);
    return Evaluator.batch(d.train(), Normalization.FASHION_MNIST,
        CalibrationSampler.firstN(d.train(), n));
  }
}
