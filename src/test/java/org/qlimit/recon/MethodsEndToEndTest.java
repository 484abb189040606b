package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantContext;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Every method end to end on the embedded Fashion-MNIST ResNet-20 at W2A4, with a tiny budget
 * (32 calibration images, 16 for activation ranges, minibatch 8, 40 iterations per unit): each reconstruction method must
 * beat round-to-nearest, and a repeated run with the same seed must give the same hash.
 */
class MethodsEndToEndTest extends QuietTest {
  private static Model model;
  private static Tensor calib;
  private static LabeledImages test;
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final int EVAL = 300;

  @BeforeAll
  static void load() throws Exception {
    model = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    Datasets.Split d = Datasets.load("fashion-mnist", null);
    calib = Evaluator.batch(d.train(), Normalization.FASHION_MNIST,
        CalibrationSampler.firstN(d.train(), 32));
    test = d.test();
  }

  static ReconConfig tiny(Method m, int w, int a) {
    return ReconConfig.builder(m, w, a).iters(40).itersAct(20).batchSize(8).seed(1005)
        .brecqActImages(16).qdropActImages(16).build();
  }

  static double top1(Reconstructor.Result r) {
    return Evaluator.top1(model, QuantContext.full(r.state()), K, test,
        Normalization.FASHION_MNIST, 100, EVAL, Evaluator.Progress.NONE).percent();
  }

  @Test
  void everyMethodBeatsRoundToNearestAtW2A4() {
    Map<Method, Double> acc = new EnumMap<>(Method.class);
    for (Method m : Method.values()) {
      acc.put(m, top1(new Reconstructor(model, tiny(m, 2, 4), K, ReconListener.NONE).run(calib)));
    }
    double rtn = acc.get(Method.RTN);
    assertThat(acc.get(Method.ADAROUND)).as("top-1 %s", acc).isGreaterThan(rtn + 5);
    assertThat(acc.get(Method.BRECQ)).as("top-1 %s", acc).isGreaterThan(rtn + 5);
    assertThat(acc.get(Method.QDROP)).as("top-1 %s", acc).isGreaterThan(rtn + 5);
  }

  @Test
  void sameSeedSameHashOtherSeedOtherHash() {
    ReconConfig c = tiny(Method.QDROP, 2, 4).withIters(5, 5);
    String a = QuantExport.sha256(new Reconstructor(model, c, K, ReconListener.NONE).run(calib)
        .state());
    String b = QuantExport.sha256(new Reconstructor(model, c, K, ReconListener.NONE).run(calib)
        .state());
    String other = QuantExport.sha256(new Reconstructor(model, c.withSeed(7), K,
        ReconListener.NONE).run(calib).state());
    assertThat(b).isEqualTo(a);
    assertThat(other).isNotEqualTo(a);
  }

  @Test
  void unitRecordsCoverTheNetworkAndLossesDrop() {
    Reconstructor.Result r = new Reconstructor(model, tiny(Method.QDROP, 2, 4), K,
        ReconListener.NONE).run(calib);
    assertThat(r.records()).extracting(UnitRecord::unit).containsExactly("conv1", "layer1.0",
        "layer1.1", "layer1.2", "layer2.0", "layer2.1", "layer2.2", "layer3.0", "layer3.1",
        "layer3.2", "fc");
    long improved = r.records().stream().filter(u -> u.lossAfter() < u.lossBefore()).count();
    assertThat(improved).as("units whose loss dropped: %s", r.records()).isGreaterThanOrEqualTo(9);
  }
}
