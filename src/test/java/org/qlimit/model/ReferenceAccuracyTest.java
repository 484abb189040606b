package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.qlimit.data.Cifar10Bin;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * FP32 top-1 accuracies published with the reference models: the Fashion-MNIST ResNet-20 on all
 * 10,000 test images (94.08 %, 9408), and the akamaster CIFAR-10 ResNet-20 on the 4,000 lossless
 * training records of the shared data folder (3992/4000; read only when that folder exists).
 */
class ReferenceAccuracyTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  @Test
  void fashionMnistResnet20Reaches9408Of10000() throws Exception {
    Model m = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    LabeledImages test = Datasets.load("fashion-mnist", null).test();
    Evaluator.Accuracy a = Evaluator.top1(m, ForwardContext.FP, K, test,
        Normalization.FASHION_MNIST, 200, 0, Evaluator.Progress.NONE);
    assertThat(a.total()).isEqualTo(10_000);
    assertThat(a.correct()).isEqualTo(9408);
  }

  @Test
  void akamasterResnet20On4000TrainingRecords() throws Exception {
    Path model = Path.of("..", "shared", "models", "cifar10", "resnet20.safetensors");
    Path data = Path.of("..", "shared", "data", "cifar10", "data_batch_1_first4000.bin");
    assumeTrue(Files.exists(model) && Files.exists(data), "shared CIFAR-10 files not present");
    Model m = Architectures.load("resnet20", model);
    LabeledImages set = Cifar10Bin.read(data);
    Evaluator.Accuracy a = Evaluator.top1(m, ForwardContext.FP, K, set, Normalization.CIFAR10,
        200, 0, Evaluator.Progress.NONE);
    assertThat(a.correct()).isEqualTo(3992);
    assertThat(a.total()).isEqualTo(4000);
  }
}
