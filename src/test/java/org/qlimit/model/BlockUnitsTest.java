package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.Activation;
import org.qlimit.nn.BatchNorm;
import org.qlimit.nn.Conv2d;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.testing.Rand;
import org.qlimit.util.NumericsConfig;

/**
 * The block units: output shapes, BatchNorm folding, activation sites and layers in execution
 * order, and {@link Unit#activationAfter}.
 */
class BlockUnitsTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  /** Records the order in which a forward pass visits layers and activation sites. */
  private static final class Recorder implements ForwardContext {
    final List<String> sites = new ArrayList<>();
    final List<Layer> layers = new ArrayList<>();
    final List<int[]> siteShapes = new ArrayList<>();

    @Override
    public Var weight(Graph g, Layer layer) {
      return layer.weight();
    }

    @Override
    public Var activation(Graph g, String site, Var x) {
      sites.add(site);
      siteShapes.add(x.shape());
      return x;
    }

    @Override
    public void layerInput(Layer layer, Var x) {
      layers.add(layer);
    }
  }

  private static long seed = 100;

  /** A conv with random weights and a BatchNorm with random (non-identity) statistics. */
  private static ConvBn convBn(String conv, String bn, int cin, int cout, int k, int stride,
      int groups) {
    // N(0, 1 / fan_in) weights keep the outputs O(1), so 1e-4 is a meaningful absolute bound.
    float[] w = Rand.normal(seed++, cout * cin / groups * k * k);
    float std = (float) Math.sqrt(1.0 / (cin / groups * k * k));
    for (int i = 0; i < w.length; i++) {
      w[i] *= std;
    }
    Conv2d c = new Conv2d(conv, Var.param(conv + ".weight", Tensor.of(w, cout, cin / groups, k,
        k)), null, stride, k / 2, groups);
    SplittableRandom r = new SplittableRandom(seed++);
    float[] gamma = new float[cout];
    float[] var = new float[cout];
    for (int i = 0; i < cout; i++) {
      gamma[i] = (float) (0.5 + r.nextDouble());
      var[i] = (float) (0.5 + 1.5 * r.nextDouble());
    }
    BatchNorm b = new BatchNorm(bn, Var.param(bn + ".weight", Tensor.of(gamma, cout)),
        Rand.param(bn + ".bias", seed++, cout), Rand.tensor(seed++, cout), Tensor.of(var, cout),
        1e-5f, 0.1f);
    return new ConvBn(c, b);
  }

  private static Tensor run(Unit u, Tensor x, ForwardContext ctx) {
    return u.forward(Graph.inference(K), Var.constant(x), ctx).value();
  }

  /** Shape, folding within 1e-4, and execution order of sites and layers. */
  private static void check(Unit u, Unit folded, int[] in, int[] out) {
    Tensor x = Rand.tensor(7, 2, in[0], in[1], in[2]);
    Recorder rec = new Recorder();
    Tensor y = run(u, x, rec);
    assertThat(u.outputShape(in)).containsExactly(out);
    assertThat(y.shape()).containsExactly(2, out[0], out[1], out[2]);
    assertThat(rec.sites).as("sites in execution order").containsExactlyElementsOf(u.actSites());
    assertThat(rec.layers).as("layers in execution order").containsExactlyElementsOf(u.layers());
    assertThat(u.actSites()).last().isEqualTo(u.outputSite());
    Tensor yf = run(folded, x, ForwardContext.FP);
    double worst = 0;
    for (int i = 0; i < y.numel(); i++) {
      worst = Math.max(worst, Math.abs(y.data()[i] - yf.data()[i]));
    }
    assertThat(worst).as("folded vs unfolded: max |Δ| = %.3g", worst).isLessThanOrEqualTo(1e-4);
    for (Layer l : folded.layers()) {
      assertThat(l.bias()).as("%s folded bias", l.name()).isNotNull();
    }
    assertThat(folded.actSites()).isEqualTo(u.actSites());
  }

  @Test
  void bottleneckWithDownsample() {
    Bottleneck b = new Bottleneck("layer2.0", convBn("layer2.0.conv1", "layer2.0.bn1", 8, 4, 1, 1,
        1), convBn("layer2.0.conv2", "layer2.0.bn2", 4, 4, 3, 2, 1),
        convBn("layer2.0.conv3", "layer2.0.bn3", 4, 16, 1, 1, 1),
        convBn("layer2.0.downsample.0", "layer2.0.downsample.1", 8, 16, 1, 2, 1));
    check(b, b.folded(), new int[] {8, 7, 6}, new int[] {16, 4, 3});
    assertThat(b.actSites()).containsExactly("layer2.0.conv1", "layer2.0.conv2", "layer2.0");
    assertThat(b.layers()).extracting(Layer::name).containsExactly("layer2.0.conv1",
        "layer2.0.conv2", "layer2.0.conv3", "layer2.0.downsample.0");
    assertThat(b.kind()).isEqualTo("Bottleneck");
    List<Layer> l = b.layers();
    assertThat(l).extracting(b::activationAfter).containsExactly(Activation.RELU,
        Activation.RELU, Activation.NONE, Activation.NONE);
  }

  @Test
  void bottleneckIdentityOutputIsNonNegative() {
    Bottleneck b = new Bottleneck("layer1.1", convBn("c1", "b1", 16, 4, 1, 1, 1),
        convBn("c2", "b2", 4, 4, 3, 1, 1), convBn("c3", "b3", 4, 16, 1, 1, 1), null);
    check(b, b.folded(), new int[] {16, 5, 5}, new int[] {16, 5, 5});
    for (float v : run(b, Rand.tensor(3, 1, 16, 5, 5), ForwardContext.FP).data()) {
      assertThat(v).isGreaterThanOrEqualTo(0f);
    }
  }

  @Test
  void invertedResidualWithShortcut() {
    InvertedResidual r = new InvertedResidual("features.3",
        convBn("features.3.conv.0.0", "features.3.conv.0.1", 8, 48, 1, 1, 1),
        convBn("features.3.conv.1.0", "features.3.conv.1.1", 48, 48, 3, 1, 48),
        convBn("features.3.conv.2", "features.3.conv.3", 48, 8, 1, 1, 1), Activation.RELU6);
    assertThat(r.hasShortcut()).isTrue();
    check(r, r.folded(), new int[] {8, 6, 6}, new int[] {8, 6, 6});
    assertThat(r.actSites()).containsExactly("features.3.conv.0.0", "features.3.conv.1.0",
        "features.3");
    assertThat(r.kind()).isEqualTo("InvertedResidual");
    assertThat(r.layers()).extracting(r::activationAfter).containsExactly(Activation.RELU6,
        Activation.RELU6, Activation.NONE);
    // Linear bottleneck + identity: the output can be negative (no activation after the add).
    float min = Float.MAX_VALUE;
    for (float v : run(r, Rand.tensor(3, 1, 8, 6, 6), ForwardContext.FP).data()) {
      min = Math.min(min, v);
    }
    assertThat(min).isNegative();
  }

  @Test
  void invertedResidualWithoutExpandAndStride2Has5x5Kernel() {
    InvertedResidual r = new InvertedResidual("layers.8.0", null,
        convBn("layers.8.0.layers.3", "layers.8.0.layers.4", 8, 8, 5, 2, 8),
        convBn("layers.8.0.layers.6", "layers.8.0.layers.7", 8, 8, 1, 1, 1), Activation.RELU);
    assertThat(r.hasShortcut()).isFalse();
    check(r, r.folded(), new int[] {8, 9, 8}, new int[] {8, 5, 4});
    assertThat(r.actSites()).containsExactly("layers.8.0.layers.3", "layers.8.0");
    assertThat(r.layers()).extracting(r::activationAfter).containsExactly(Activation.RELU,
        Activation.NONE);
  }

  @Test
  void invertedResidualRejectsANonDepthwiseMiddleConv() {
    assertThatThrownBy(() -> new InvertedResidual("b", null, convBn("dw", "bn", 8, 8, 3, 1, 1),
        convBn("pj", "bn2", 8, 8, 1, 1, 1), Activation.RELU6))
        .hasMessageContaining("must be depthwise");
  }

  @Test
  void regNetBlockWithProjectionAndGroups() {
    String n = "trunk_output.block1.block1-0";
    RegNetBlock b = new RegNetBlock(n, convBn(n + ".f.a.0", n + ".f.a.1", 8, 16, 1, 1, 1),
        convBn(n + ".f.b.0", n + ".f.b.1", 16, 16, 3, 2, 2),
        convBn(n + ".f.c.0", n + ".f.c.1", 16, 16, 1, 1, 1),
        convBn(n + ".proj.0", n + ".proj.1", 8, 16, 1, 2, 1));
    check(b, b.folded(), new int[] {8, 8, 8}, new int[] {16, 4, 4});
    assertThat(b.actSites()).containsExactly(n + ".f.a.0", n + ".f.b.0", n);
    assertThat(b.kind()).isEqualTo("RegNetBlock");
    assertThat(b.layers()).extracting(b::activationAfter).containsExactly(Activation.RELU,
        Activation.RELU, Activation.NONE, Activation.NONE);
    assertThat(((Conv2d) b.layers().get(1)).groups()).isEqualTo(2);
  }

  @Test
  void regNetBlockIdentity() {
    RegNetBlock b = new RegNetBlock("r", convBn("a", "a1", 16, 16, 1, 1, 1),
        convBn("b", "b1", 16, 16, 3, 1, 2), convBn("c", "c1", 16, 16, 1, 1, 1), null);
    check(b, b.folded(), new int[] {16, 5, 5}, new int[] {16, 5, 5});
    assertThat(b.layers()).hasSize(3);
  }

  @Test
  void pooledStem() {
    PooledConvUnit u = new PooledConvUnit("conv1", convBn("conv1", "bn1", 3, 8, 7, 2, 1),
        Activation.RELU, 3, 2, 1);
    check(u, u.folded(), new int[] {3, 32, 30}, new int[] {8, 8, 8});
    assertThat(u.actSites()).containsExactly("conv1");
    assertThat(u.kind()).isEqualTo("layer");
    assertThat(u.activationAfter(u.layers().get(0))).isEqualTo(Activation.RELU);
    // the site quantizes the conv output before the max-pool (QDrop's quantized stem)
    Recorder rec = new Recorder();
    run(u, Rand.tensor(7, 2, 3, 32, 30), rec);
    assertThat(rec.siteShapes).hasSize(1);
    assertThat(rec.siteShapes.get(0)).containsExactly(2, 8, 16, 15);
  }

  @Test
  void basicBlockFromTorchvisionBuilderFolds() {
    BasicBlock b = new BasicBlock("layer2.0", convBn("c1", "b1", 4, 8, 3, 2, 1),
        convBn("c2", "b2", 8, 8, 3, 1, 1), convBn("d0", "d1", 4, 8, 1, 2, 1), 0);
    check(b, b.folded(), new int[] {4, 7, 7}, new int[] {8, 4, 4});
  }
}
