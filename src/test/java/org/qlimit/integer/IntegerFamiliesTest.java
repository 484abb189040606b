package org.qlimit.integer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.qlimit.kernel.Kernels;
import org.qlimit.kernel.ScalarIntKernels;
import org.qlimit.kernel.SimdIntKernels;
import org.qlimit.kernel.VectorWidths;
import org.qlimit.model.Architectures;
import org.qlimit.model.TorchvisionResNets;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/**
 * Every block kind has an integer form: the CIFAR ResNet-20 (parameter-free "option A"
 * shortcuts), the small RegNetX (group convolutions, 1×1-conv shortcuts), the small MNASNet (5×5
 * depthwise, ReLU, a block without expansion) and narrow torchvision ResNet-18 and ResNet-50 on
 * 32×32 inputs (max-pooled stem, Bottleneck blocks), with random weights and inputs and nearest
 * rounding at W4A4: SIMD equals the scalar definition, and each unit's first site departs from
 * the fake-quantized path by at most one level.
 */
@Tag(VectorWidths.TAG)
class IntegerFamiliesTest extends QuietTest {
  private static final Kernels K = Kernels.of(new NumericsConfig(256, 2));
  private static final QParams INPUT = QParams.fromRange(-4f, 4f, QScheme.asymmetric(8));

  static Stream<Arguments> models() {
    SplittableRandom r = new SplittableRandom(7);
    Architectures.Spec resnet20 = Architectures.get("resnet20");
    Architectures.Spec regnet = Architectures.get("regnetx-small-fmnist");
    Architectures.Spec mnas = Architectures.get("mnasnet-small-fmnist");
    return Stream.of(
        Arguments.of(resnet20.build(resnet20.fresh(r), true)),
        Arguments.of(regnet.build(regnet.fresh(r), true)),
        Arguments.of(mnas.build(mnas.fresh(r), true)),
        Arguments.of(TorchvisionResNets.load("resnet18-narrow", TorchvisionResNets.fresh(
            TorchvisionResNets.Depth.RESNET18, 8, 10, r), TorchvisionResNets.Depth.RESNET18, 8,
            32, 10, true)),
        Arguments.of(TorchvisionResNets.load("resnet50-narrow", TorchvisionResNets.fresh(
            TorchvisionResNets.Depth.RESNET50, 8, 10, r), TorchvisionResNets.Depth.RESNET50, 8,
            32, 10, true)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void runsInIntegersCloseToTheFakeQuantizedPath(Model m) {
    int[] in = m.inputShape();
    Tensor calib = Rand.tensor(1, 4, in[0], in[1], in[2]);
    Tensor images = Rand.tensor(2, 3, in[0], in[1], in[2]);
    ReconConfig c = ReconConfig.builder(Method.RTN, 4, 4).iters(1).itersAct(1).batchSize(4)
        .seed(1).brecqActImages(4).qdropActImages(4).build();
    QuantState s = new Reconstructor(m, c, K, ReconListener.NONE).run(calib).state();
    IntegerNetwork net = IntegerNetwork.compile(s, INPUT);

    Map<String, byte[]> want = new LinkedHashMap<>();
    net.trace(new ScalarIntKernels(1), images).forEach((k, v) -> want.put(k, v.data()));
    Map<String, byte[]> got = new LinkedHashMap<>();
    net.trace(new SimdIntKernels(new NumericsConfig(512, 2)), images)
        .forEach((k, v) -> got.put(k, v.data()));
    assertThat(got.keySet()).containsExactlyElementsOf(want.keySet());
    want.forEach((k, v) -> assertThat(got.get(k)).as(k).isEqualTo(v));

    IntegerEval.Result r = new IntegerEval.Result(new Departures(), new Departures());
    IntegerEval.compareBatch(net, s, new ScalarIntKernels(1), K, images, new int[3], r);
    Map<String, Departures.Site> local = new LinkedHashMap<>();
    r.perUnit().sites().forEach(d -> local.put(d.site(), d));
    assertThat(local.keySet()).containsExactlyElementsOf(m.actSites());
    List<Unit> units = m.units();
    // unit 0 reads the quantized image where the fake-quantized path reads floats: skipped
    for (Unit u : units.subList(1, units.size())) {
      if (!u.actSites().isEmpty()) {
        Departures.Site first = local.get(u.actSites().get(0));
        assertThat(first.maxSteps()).as("%s %s", m.arch(), first.site()).isLessThanOrEqualTo(1);
      }
    }
  }
}
