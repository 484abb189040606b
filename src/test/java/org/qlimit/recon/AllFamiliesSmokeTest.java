package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.NumericsConfig;

/**
 * Every method runs on every small model family (inverted residual, group convolution and MNAS
 * blocks), with random weights, a handful of images and two iterations per unit: the pipeline
 * produces one hardened quantizer per layer and a hash.
 */
class AllFamiliesSmokeTest extends org.qlimit.testing.QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  @ParameterizedTest
  @ValueSource(strings = {"mobilenetv2-small-fmnist", "regnetx-small-fmnist",
      "mnasnet-small-fmnist"})
  void everyMethodRuns(String arch) {
    Architectures.Spec spec = Architectures.get(arch);
    Model model = spec.build(spec.fresh(new SplittableRandom(3)), true);
    Tensor calib = Tensor.of(Rand.normal(5, 8 * 28 * 28), 8, 1, 28, 28);
    for (Method m : Method.values()) {
      ReconConfig c = ReconConfig.builder(m, 4, 4).iters(2).itersAct(2).batchSize(4).seed(1)
          .roundLambda(0.1).brecqActImages(4).qdropActImages(4).build();
      Reconstructor.Result r = new Reconstructor(model, c, K, ReconListener.NONE).run(calib);
      assertThat(r.state().weightsInOrder()).hasSize(model.layers().size());
      assertThat(QuantExport.sha256(r.state())).hasSize(64);
      assertThat(r.state().actsInOrder()).hasSize(model.actSites().size());
    }
  }
}
