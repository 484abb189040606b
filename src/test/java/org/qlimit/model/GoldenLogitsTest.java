package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.data.Cifar10Bin;
import org.qlimit.eval.Evaluator;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * The Java FP forward pass against golden logits produced by PyTorch (Fashion-MNIST ResNet-20,
 * embedded) and by a float64 evaluation (akamaster CIFAR-10 ResNet-20/56, read from the shared
 * model folder when present). Tolerance 1e-4 absolute.
 */
class GoldenLogitsTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final Path SHARED = Path.of("..", "shared");

  private static double maxAbsDiff(Tensor a, float[] b) {
    float[] x = a.contiguous().data();
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs((double) x[i] - b[i]));
    }
    return m;
  }

  @Test
  void resnet20FashionMnistMatchesPyTorch() throws Exception {
    Model model = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    SafeTensorsFile golden = SafeTensors.read(
        Path.of("datasets/models/resnet20_fmnist_golden.safetensors"));
    float[] expected = golden.require("logits", 256, 10).asFloats();
    long[] labels = golden.require("labels", 256).asLongs();
    LabeledImages test = Datasets.load("fashion-mnist", null).test();
    Tensor logits = Evaluator.logits(model, ForwardContext.FP, K, test,
        Normalization.FASHION_MNIST, 0, 256);
    double d = maxAbsDiff(logits, expected);
    assertThat(d).as("max |logit - golden| = %s", d).isLessThanOrEqualTo(1e-4);
    int[] pred = Evaluator.argmax(logits);
    for (int i = 0; i < 256; i++) {
      assertThat((long) test.labels()[i]).isEqualTo(labels[i]);
    }
    assertThat(pred).hasSize(256);
  }

  @Test
  void akamasterResnetsMatchGoldenLogits() throws Exception {
    Path models = SHARED.resolve("models/cifar10");
    Path data = SHARED.resolve("data/cifar10/data_batch_1_first4000.bin");
    assumeTrue(Files.exists(models) && Files.exists(data), "shared CIFAR-10 files not present");
    LabeledImages set = Cifar10Bin.read(data);
    for (String arch : new String[] {"resnet20", "resnet56"}) {
      Model model = Architectures.load(arch, models.resolve(arch + ".safetensors"));
      float[] expected = SafeTensors.read(models.resolve(arch + "_golden.safetensors"))
          .require("logits", 64, 10).asFloats();
      Tensor logits = Evaluator.logits(model, ForwardContext.FP, K, set, Normalization.CIFAR10,
          0, 64);
      double d = maxAbsDiff(logits, expected);
      assertThat(d).as("%s: max |logit - golden| = %s", arch, d).isLessThanOrEqualTo(1e-4);
    }
  }
}
