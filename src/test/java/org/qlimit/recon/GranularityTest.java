package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * {@code --granularity} (ALGORITHMS.md §4.4): how the embedded ResNet-20 and MobileNetV2-small
 * are cut into units, that a group runs as its units do, and what BRECQ and QDrop reconstruct
 * at each granularity (tiny budgets), with the same bits at 1 and 2 threads (QDrop, layer units:
 * input mixing and dropping per layer).
 */
class GranularityTest extends QuietTest {
  private static final Kernels K1 = Kernels.of(new NumericsConfig(256, 1));
  private static final Kernels K2 = Kernels.of(new NumericsConfig(256, 2));
  private static Model resnet;
  private static Tensor calib;

  @BeforeAll
  static void load() throws Exception {
    resnet = Embedded.resnet20();
    calib = Embedded.calibration(8);
  }

  private static List<String> names(List<Unit> units) {
    List<String> out = new ArrayList<>();
    for (Unit u : units) {
      out.add(u.name());
    }
    return out;
  }

  @Test
  void resnetStagesAreLayer1To3AndTheNetIsOneUnit() {
    assertThat(Granularity.BLOCK.partition(resnet, true)).isSameAs(resnet.units());
    assertThat(names(Granularity.STAGE.partition(resnet, false))).containsExactly("conv1",
        "layer1.0..layer1.2", "layer2.0..layer2.2", "layer3.0..layer3.2", "fc");
    assertThat(names(Granularity.NET.partition(resnet, true))).containsExactly("conv1",
        "layer1.0..fc");
    assertThat(names(Granularity.NET.partition(resnet, false))).containsExactly("conv1..fc");
    assertThatThrownBy(() -> Granularity.LAYER.partition(resnet, false))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void mobileNetStagesFollowTheResolution() throws Exception {
    Model m = Architectures.load("mobilenetv2-small-fmnist",
        Path.of("datasets/models/mobilenetv2_small_fmnist.safetensors"));
    // 28×28: features.1 at 28, features.2–3 at 14, features.4–6 at 7; stem, last 1×1 conv and
    // classifier stay layer units
    assertThat(names(Granularity.STAGE.partition(m, false))).containsExactly("features.0",
        "features.1", "features.2..features.3", "features.4..features.6", "features.7",
        "classifier.1");
  }

  @Test
  void aGroupRunsItsUnitsInOrder() {
    List<Unit> net = Granularity.NET.partition(resnet, false);
    Tensor x = calib.slice(0, 4).contiguous();
    Tensor group = net.get(0).forward(Graph.inference(K1), Var.constant(x), ForwardContext.FP)
        .value();
    Tensor model = resnet.forward(Graph.inference(K1), Var.constant(x), ForwardContext.FP)
        .value();
    assertThat(group.data()).containsExactly(model.data());
    Unit stage = Granularity.STAGE.partition(resnet, false).get(2);
    assertThat(stage.layers()).hasSize(7);  // 3 blocks × 2 convs + the downsampling conv
    assertThat(stage.actSites()).containsExactly("layer2.0.conv1", "layer2.0", "layer2.1.conv1",
        "layer2.1", "layer2.2.conv1", "layer2.2");
    assertThat(stage.outputSite()).isEqualTo("layer2.2");
  }

  private static Reconstructor.Result run(Method m, Granularity g, Kernels k) {
    ReconConfig c = ReconConfig.builder(m, 2, 4).iters(2).itersAct(2).batchSize(4)
        .brecqActImages(8).qdropActImages(8).granularity(g).build();
    return new Reconstructor(resnet, c, k, ReconListener.NONE).run(calib);
  }

  private static List<String> units(Reconstructor.Result r, String phase) {
    List<String> out = new ArrayList<>();
    for (UnitRecord u : r.records()) {
      if (u.phase().equals(phase)) {
        out.add(u.unit() + (u.skipped() == null ? "" : " (skipped)"));
      }
    }
    return out;
  }

  @Test
  void brecqAtEachGranularity() {
    Reconstructor.Result layer = run(Method.BRECQ, Granularity.LAYER, K1);
    assertThat(units(layer, "weights")).hasSize(22).startsWith("conv1 (skipped)",
        "layer1.0.conv1", "layer1.0.conv2");
    // the activation phase learns the steps of the layers that have an output site of their
    // own: each block's first conv (the others feed a residual addition)
    assertThat(units(layer, "activations")).containsExactly("layer1.0.conv1", "layer1.1.conv1",
        "layer1.2.conv1", "layer2.0.conv1", "layer2.1.conv1", "layer2.2.conv1",
        "layer3.0.conv1", "layer3.1.conv1", "layer3.2.conv1");
    Reconstructor.Result net = run(Method.BRECQ, Granularity.NET, K1);
    assertThat(units(net, "weights")).containsExactly("conv1 (skipped)", "layer1.0..fc");
    assertThat(units(net, "activations")).containsExactly("layer1.0..fc");
  }

  @Test
  void qdropAtEachGranularity() {
    Reconstructor.Result layer = run(Method.QDROP, Granularity.LAYER, K1);
    assertThat(units(layer, "joint")).hasSize(22).startsWith("conv1", "layer1.0.conv1");
    assertThat(QuantExport.sha256(run(Method.QDROP, Granularity.LAYER, K2).state()))
        .isEqualTo(QuantExport.sha256(layer.state()));
    Reconstructor.Result stage = run(Method.QDROP, Granularity.STAGE, K1);
    assertThat(units(stage, "joint")).containsExactly("conv1", "layer1.0..layer1.2",
        "layer2.0..layer2.2", "layer3.0..layer3.2", "fc");
  }

  @Test
  void onlyBrecqAndQdropHaveAGranularityAndTheFisherLossNeedsUnitOutputs() {
    assertThatThrownBy(() -> ReconConfig.builder(Method.ADAROUND, 2, 4)
        .granularity(Granularity.STAGE).build())
        .hasMessageStartingWith("--granularity stage: only brecq and qdrop");
    assertThatThrownBy(() -> ReconConfig.builder(Method.RTN, 2, 4)
        .loss(ReconLoss.FISHER_DIAG).build())
        .hasMessageStartingWith("--loss fisher-diag: only brecq and qdrop");
    assertThatThrownBy(() -> ReconConfig.builder(Method.BRECQ, 2, 4)
        .granularity(Granularity.LAYER).loss(ReconLoss.FISHER_DIAG).build())
        .hasMessageStartingWith("--loss fisher-diag needs --granularity block, stage or net");
    assertThatThrownBy(() -> Granularity.parse("blocks"))
        .hasMessage("unknown granularity 'blocks'; choose one of layer, block, stage, net");
    assertThat(Granularity.parse("Stage")).isEqualTo(Granularity.STAGE);
    assertThat(ReconLoss.parse("fisher-diag")).isEqualTo(ReconLoss.FISHER_DIAG);
  }
}
