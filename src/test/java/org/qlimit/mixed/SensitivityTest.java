package org.qlimit.mixed;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.recon.Method;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/** Sensitivities of the embedded ResNet-20 on a few calibration images. */
class SensitivityTest extends QuietTest {
  private static final int[] BITS = {2, 8};
  private static Model model;
  private static Tensor calib;
  private static int[] labels;
  private static Sensitivity oneThread;

  @BeforeAll
  static void measure() throws Exception {
    model = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    LabeledImages train = Datasets.load("fashion-mnist", null).train();
    int[] idx = CalibrationSampler.firstN(train, 12);
    calib = Evaluator.batch(train, Normalization.FASHION_MNIST, idx);
    labels = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      labels[i] = train.labels()[idx[i]];
    }
    NumericsConfig nc = NumericsConfig.defaults();
    oneThread = Sensitivity.measure(model, Method.BRECQ, BITS, calib, labels,
        new NumericsConfig(nc.vectorBits(), 1));
  }

  @Test
  void coversTheSearchedLayersWithIntraBlockPairs() {
    CostModel cm = CostModel.of(model, Kernels.of(NumericsConfig.defaults()));
    assertThat(oneThread.layers()).isEqualTo(cm.free().stream().map(LayerCost::layer).toList());
    // ResNet-20 (option-B shortcuts): 9 basic blocks of two convolutions, two of them with a
    // 1x1 downsampling convolution: 20 layers, 7 + 2·3 = 13 intra-block pairs.
    assertThat(oneThread.layers()).hasSize(20);
    assertThat(oneThread.pairs()).hasSize(13);
    for (Sensitivity.PairTerm p : oneThread.pairs()) {
      assertThat(oneThread.units().get(p.i())).isEqualTo(oneThread.units().get(p.j()));
    }
  }

  @Test
  void fewerBitsHurtMore() {
    for (int i = 0; i < oneThread.layers().size(); i++) {
      double[] d = oneThread.diag()[i];
      assertThat(d[0]).as("layer %s", oneThread.layers().get(i)).isGreaterThanOrEqualTo(d[1]);
      assertThat(d[1]).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  void independentOfThreadCount() {
    NumericsConfig nc = NumericsConfig.defaults();
    Sensitivity two = Sensitivity.measure(model, Method.BRECQ, BITS, calib, labels,
        new NumericsConfig(nc.vectorBits(), 2));
    assertThat(two.diag()).isDeepEqualTo(oneThread.diag());
    for (int p = 0; p < two.pairs().size(); p++) {
      assertThat(two.pairs().get(p).off()).isDeepEqualTo(oneThread.pairs().get(p).off());
    }
  }

  @Test
  void cacheRoundTripIsExact(@TempDir Path dir) throws Exception {
    String key = SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS, calib, labels);
    Path f = SensitivityCache.file(dir, key);
    assertThat(SensitivityCache.load(f, key)).isEmpty();
    SensitivityCache.save(f, key, oneThread);
    Sensitivity back = SensitivityCache.load(f, key).orElseThrow();
    assertThat(back.diag()).isDeepEqualTo(oneThread.diag());
    assertThat(back.pairs().get(3).off()).isDeepEqualTo(oneThread.pairs().get(3).off());
    assertThat(back.layers()).isEqualTo(oneThread.layers());
    String other = SensitivityCache.key("abd", "resnet20-fmnist", Method.BRECQ, BITS, calib,
        labels);
    assertThat(other).isNotEqualTo(key);
    assertThat(SensitivityCache.load(f, other)).isEmpty();
  }
}
