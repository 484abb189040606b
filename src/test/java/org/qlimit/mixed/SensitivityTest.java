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
import org.qlimit.recon.LayerRounding;
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
    String key = SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        Sensitivity.Options.PLAIN, calib, labels);
    Path f = SensitivityCache.file(dir, key);
    assertThat(SensitivityCache.load(f, key)).isEmpty();
    SensitivityCache.save(f, key, oneThread);
    Sensitivity back = SensitivityCache.load(f, key).orElseThrow();
    assertThat(back.diag()).isDeepEqualTo(oneThread.diag());
    assertThat(back.pairs().get(3).off()).isDeepEqualTo(oneThread.pairs().get(3).off());
    assertThat(back.layers()).isEqualTo(oneThread.layers());
    String other = SensitivityCache.key("abd", "resnet20-fmnist", Method.BRECQ, BITS,
        Sensitivity.Options.PLAIN, calib, labels);
    assertThat(other).isNotEqualTo(key);
    assertThat(SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        new Sensitivity.Options(4, null), calib, labels)).isNotEqualTo(key);
    assertThat(SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        new Sensitivity.Options(32, null, Sensitivity.Weighting.FISHER), calib, labels))
        .isNotEqualTo(key);
    LayerRounding.Settings r = new LayerRounding.Settings(50, 32, 0.01, 0.2, 1e-3f, 1005);
    String rounded = SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        new Sensitivity.Options(32, r), calib, labels);
    assertThat(rounded).isNotEqualTo(key);
    assertThat(SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        new Sensitivity.Options(32, new LayerRounding.Settings(50, 32, 0.01, 0.2, 1e-3f, 1006)),
        calib, labels)).isNotEqualTo(rounded);
    assertThat(SensitivityCache.key("abc", "resnet20-fmnist", Method.BRECQ, BITS,
        new Sensitivity.Options(32, new LayerRounding.Settings(50, 32, 0.1, 0.2, 1e-3f, 1005)),
        calib, labels)).isNotEqualTo(rounded);
    assertThat(SensitivityCache.load(f, other)).isEmpty();
  }

  @Test
  void activationAwareTermsAreIncreasesOverTheActivationOnlyError() {
    NumericsConfig nc = NumericsConfig.defaults();
    NumericsConfig one = new NumericsConfig(nc.vectorBits(), 1);
    Sensitivity a4 = Sensitivity.measure(model, Method.BRECQ, BITS, 4, calib, labels, one);
    Sensitivity a4two = Sensitivity.measure(model, Method.BRECQ, BITS, 4, calib, labels,
        new NumericsConfig(nc.vectorBits(), 2));
    assertThat(a4two.diag()).isDeepEqualTo(a4.diag());
    Sensitivity fp = oneThread;
    for (int i = 0; i < a4.layers().size(); i++) {
      double[] d = a4.diag()[i];
      // 2-bit weights on top of 4-bit activations still add error, 8-bit weights almost none.
      assertThat(d[0]).as("layer %s", a4.layers().get(i)).isGreaterThan(0).isGreaterThan(d[1]);
      assertThat(Math.abs(d[1])).isLessThan(0.1 * d[0]);
    }
    // Quantized activations change the terms: they are not the FP-activation values.
    assertThat(a4.diag()[5][0]).isNotEqualTo(fp.diag()[5][0]);
    // Pair terms are increases over base + both diagonals: with both layers at 8 bits the joint
    // error is the activation-only error, so the term is about 0 (without subtracting base_u it
    // would be base_u itself).
    for (Sensitivity.PairTerm p : a4.pairs()) {
      assertThat(Math.abs(p.off()[1][1])).isLessThan(0.1 * a4.diag()[p.i()][0]);
    }
  }

  @Test
  void activationBitsOutsideTheRangeAreRefused() {
    NumericsConfig one = new NumericsConfig(NumericsConfig.defaults().vectorBits(), 1);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Sensitivity.measure(model, Method.BRECQ, BITS, 12, calib, labels, one))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("activation bits must be in 2..8 or 32, got 12");
  }

  @Test
  void reconstructedRoundingLowersTheTwoBitTermsAndIsIndependentOfThreads() {
    NumericsConfig nc = NumericsConfig.defaults();
    Sensitivity.Options opt = new Sensitivity.Options(32,
        new LayerRounding.Settings(12, 4, 0.01, 0.2, 1e-3f, 1005));
    Sensitivity rec = Sensitivity.measure(model, Method.BRECQ, BITS, opt, calib, labels,
        new NumericsConfig(nc.vectorBits(), 1));
    Sensitivity rec2 = Sensitivity.measure(model, Method.BRECQ, BITS, opt, calib, labels,
        new NumericsConfig(nc.vectorBits(), 2));
    assertThat(rec2.diag()).isDeepEqualTo(rec.diag());
    assertThat(rec2.pairs().get(0).off()).isDeepEqualTo(rec.pairs().get(0).off());
    // AdaRound against the block output beats nearest rounding at 2 bits on (almost) every layer.
    int lower = 0;
    for (int i = 0; i < rec.layers().size(); i++) {
      assertThat(rec.diag()[i][0]).isGreaterThan(0);
      if (rec.diag()[i][0] < oneThread.diag()[i][0]) {
        lower++;
      }
    }
    assertThat(lower).isGreaterThanOrEqualTo(rec.layers().size() - 2);
    assertThat(opt.describe()).contains("AdaRound per layer (iters 12, batch 4");
  }

  @Test
  void fisherWeightingIsTheSquaredGradientAndIndependentOfThreads() {
    NumericsConfig nc = NumericsConfig.defaults();
    Sensitivity.Options opt = new Sensitivity.Options(32, null, Sensitivity.Weighting.FISHER);
    Sensitivity f1 = Sensitivity.measure(model, Method.BRECQ, BITS, opt, calib, labels,
        new NumericsConfig(nc.vectorBits(), 1));
    Sensitivity f2 = Sensitivity.measure(model, Method.BRECQ, BITS, opt, calib, labels,
        new NumericsConfig(nc.vectorBits(), 2));
    assertThat(f2.diag()).isDeepEqualTo(f1.diag());
    // (|g| + 1)² ≥ 1 > g² for the small per-element gradients of a trained network, so every
    // plain term exceeds its Fisher twin.
    for (int i = 0; i < f1.layers().size(); i++) {
      assertThat(f1.diag()[i][0]).isLessThan(oneThread.diag()[i][0]);
    }
    assertThat(opt.describe()).startsWith("F = g^2, acts FP");
    assertThat(Sensitivity.Options.PLAIN.describe()).isEqualTo("acts FP, nearest rounding");
  }
}
