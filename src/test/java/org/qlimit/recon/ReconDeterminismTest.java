package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.kernel.VectorWidths;
import org.qlimit.model.Architectures;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Bitwise determinism of a whole reconstruction: a tiny QDrop W2A4 run on the embedded ResNet-20
 * gives the same {@link QuantExport#sha256} for 1, 2 and 4 threads, for 256- and 512-bit vectors
 * (512 is emulated on AVX2 machines, hence the tiny run: 8 images, 2 iterations) and for the scalar path.
 */
@Tag(VectorWidths.TAG)
class ReconDeterminismTest extends QuietTest {
  static final Path MODEL = Path.of("datasets/models/resnet20_fmnist.safetensors");
  private static Tensor calib;

  @BeforeAll
  static void loadCalibration() throws IOException {
    calib = calibration();
  }

  /** The first 8 embedded Fashion-MNIST training images, the calibration set of these runs. */
  static Tensor calibration() throws IOException {
    LabeledImages train = Datasets.load("fashion-mnist", null).train();
    return Evaluator.batch(train, Normalization.FASHION_MNIST, CalibrationSampler.firstN(train, 8));
  }

  /**
   * QDrop W2A4, 2 iterations per unit at batch 4 (the rounding regulariser is on from the first,
   * so every part of the loop runs), activation ranges from the calibration images.
   */
  static ReconConfig tinyQdrop() {
    ReconConfig d = ReconConfig.defaults(Method.QDROP, 2, 4, 2);
    return d.toBuilder().batchSize(4).brecqActImages(16).qdropActImages(16).build();
  }

  static String run(ReconConfig cfg, int vectorBits, int threads, Tensor images)
      throws IOException {
    Kernels k = Kernels.of(new NumericsConfig(vectorBits, threads));
    Reconstructor r = new Reconstructor(Architectures.load("resnet20-fmnist", MODEL), cfg, k,
        ReconListener.NONE);
    return QuantExport.sha256(r.run(images).state());
  }

  @Test
  void qdropHashIndependentOfThreadsAndVectorWidth() throws IOException {
    ReconConfig cfg = tinyQdrop();
    String reference = run(cfg, 0, 1, calib);
    for (int bits : new int[] {256, 512}) {
      for (int threads : new int[] {1, 2, 4}) {
        assertThat(run(cfg, bits, threads, calib))
            .as("%d-bit vectors, %d threads against the scalar path", bits, threads)
            .isEqualTo(reference);
      }
    }
  }
}
