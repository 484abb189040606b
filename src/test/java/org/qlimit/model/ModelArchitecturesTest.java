package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/** The registered torchvision-layout and small architectures: build, fresh weights, cost. */
class ModelArchitecturesTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  /** Multiply-accumulates per image, from the input each layer receives in a forward pass. */
  static long macsPerImage(Model m, Tensor x) {
    long[] macs = {0};
    ForwardContext ctx = new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        return layer.weight();
      }

      @Override
      public Var activation(Graph g, String site, Var v) {
        return v;
      }

      @Override
      public void layerInput(Layer layer, Var in) {
        int[] s = in.shape();
        macs[0] += s.length == 4 ? layer.macsPerImage(s[2], s[3]) : layer.macsPerImage(1, 1);
      }
    };
    m.forward(Graph.inference(K), Var.constant(x), ctx);
    return macs[0];
  }

  @ParameterizedTest
  @ValueSource(strings = {"mobilenetv2-small-fmnist", "regnetx-small-fmnist",
      "mnasnet-small-fmnist", "mobilenetv2-small-cifar10", "regnetx-small-cifar10",
      "mnasnet-small-cifar10"})
  void smallNetworksBuildFoldAndStayCheap(String arch) {
    Architectures.Spec spec = Architectures.get(arch);
    StateDict sd = spec.fresh(new SplittableRandom(1));
    Model m = spec.build(sd, false);
    Model f = spec.build(sd, true);
    int[] in = m.inputShape();
    Tensor x = Rand.tensor(3, 2, in[0], in[1], in[2]);
    Tensor y = m.forward(Graph.inference(K), Var.constant(x), ForwardContext.FP).value();
    Tensor yf = f.forward(Graph.inference(K), Var.constant(x), ForwardContext.FP).value();
    assertThat(y.shape()).containsExactly(2, 10);
    double worst = 0;
    for (int i = 0; i < y.numel(); i++) {
      worst = Math.max(worst, Math.abs(y.data()[i] - yf.data()[i]));
    }
    assertThat(worst).as("folded vs unfolded max |Δ| = %.3g", worst).isLessThanOrEqualTo(1e-4);
    // Under 25 MFLOP (12.5 M MACs) per image.
    assertThat(macsPerImage(f, x)).isBetween(1_000_000L, 12_500_000L);
    assertThat(m.unitInputShape(m.units().size() - 1)[1]).isEqualTo(in[1] / 4);
    assertUniqueNames(m);
    assertThat(f.layers().get(0).name()).isEqualTo(m.layers().get(0).name());
  }

  @ParameterizedTest
  @ValueSource(strings = {"mobilenetv2-small-fmnist", "regnetx-small-cifar10",
      "mnasnet-small-fmnist", "resnet18"})
  void freshWeightsAreDeterministic(String arch) {
    StateDict a = Architectures.get(arch).fresh(new SplittableRandom(42));
    StateDict b = Architectures.get(arch).fresh(new SplittableRandom(42));
    assertThat(a.names()).isEqualTo(b.names());
    for (String n : a.names()) {
      assertThat(a.asMap().get(n).data()).as(n).isEqualTo(b.asMap().get(n).data());
    }
  }

  /**
   * Parameter counts (weights and BN affine parameters, not running statistics) equal
   * torchvision's, and the final feature map is 7×7 for a 224×224 input.
   */
  @ParameterizedTest
  @CsvSource({"resnet18, 11689512, 512", "resnet50, 25557032, 2048",
      "mobilenetv2, 3504872, 1280"})
  void torchvisionModelsHaveTorchvisionParameterCounts(String arch, long params, int channels) {
    Architectures.Spec spec = Architectures.get(arch);
    StateDict sd = spec.fresh(new SplittableRandom(7));
    long n = 0;
    for (String name : sd.names()) {
      if (!name.endsWith("running_mean") && !name.endsWith("running_var")) {
        n += sd.asMap().get(name).numel();
      }
    }
    assertThat(n).isEqualTo(params);
    Model m = spec.build(sd, true);
    assertThat(m.inputShape()).containsExactly(3, 224, 224);
    assertThat(m.numClasses()).isEqualTo(1000);
    assertThat(m.unitInputShape(m.units().size() - 1)).containsExactly(channels, 7, 7);
    assertUniqueNames(m);
  }

  @Test
  void torchvisionNamesAreTheExportedOnes() {
    List<String> r50 = Architectures.get("resnet50").fresh(new SplittableRandom(1)).names();
    assertThat(r50).startsWith("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
        "bn1.running_var", "layer1.0.conv1.weight");
    assertThat(r50).contains("layer1.0.downsample.0.weight", "layer4.2.bn3.running_var",
        "fc.weight", "fc.bias").doesNotContain("layer1.1.downsample.0.weight");
    List<String> mb = Architectures.get("mobilenetv2").fresh(new SplittableRandom(1)).names();
    assertThat(mb).contains("features.0.0.weight", "features.1.conv.0.0.weight",
        "features.1.conv.1.weight", "features.1.conv.2.running_var", "features.2.conv.1.0.weight",
        "features.2.conv.3.bias", "features.17.conv.2.weight", "features.18.0.weight",
        "features.18.1.bias", "classifier.1.weight").doesNotContain("features.19.0.weight");
    Model m = Architectures.get("mobilenetv2").build(
        Architectures.get("mobilenetv2").fresh(new SplittableRandom(1)), true);
    assertThat(m.units()).hasSize(1 + 17 + 1 + 1);
    assertThat(m.units().get(1).kind()).isEqualTo("InvertedResidual");
  }

  @Test
  void makeDivisibleIsTorchvisions() {
    assertThat(MobileNetV2s.makeDivisible(32 * 0.25)).isEqualTo(8);
    assertThat(MobileNetV2s.makeDivisible(24 * 0.25)).isEqualTo(8);
    assertThat(MobileNetV2s.makeDivisible(160 * 0.75)).isEqualTo(120);
    assertThat(MobileNetV2s.makeDivisible(96 * 0.35)).isEqualTo(32);
    assertThat(MobileNetV2s.makeDivisible(1280)).isEqualTo(1280);
  }

  private static void assertUniqueNames(Model m) {
    List<String> layers = new ArrayList<>();
    for (Layer l : m.layers()) {
      layers.add(l.name());
    }
    assertThat(new HashSet<>(layers)).hasSameSizeAs(layers);
    assertThat(new HashSet<>(m.actSites())).hasSameSizeAs(m.actSites());
  }
}
