package org.qlimit.mixed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.BertConfig;
import org.qlimit.model.Berts;
import org.qlimit.model.Head;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Conv2d;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/** Size and BitOPs on a small network checked by hand. */
class CostModelTest extends QuietTest {

  /** Conv layers in sequence, each followed by ReLU; activation site on the output. */
  record Chain(String name, List<Layer> layers) implements Unit {
    @Override
    public List<String> actSites() {
      return List.of(name);
    }

    @Override
    public String outputSite() {
      return name;
    }

    @Override
    public Var forward(Graph g, Var x, ForwardContext ctx) {
      Var h = x;
      for (Layer l : layers) {
        h = Activation.RELU.apply(g, l.forward(g, h, ctx));
      }
      return ctx.activation(g, name, h);
    }

    @Override
    public int[] outputShape(int[] in) {
      int[] s = in;
      for (Layer l : layers) {
        Conv2d c = (Conv2d) l;
        s = new int[] {c.outChannels(), c.outH(s[1]), c.outW(s[2])};
      }
      return s;
    }

    @Override
    public String kind() {
      return "chain";
    }

    @Override
    public Activation activationAfter(Layer layer) {
      return Activation.RELU;
    }
  }

  static Conv2d conv(String name, int cin, int cout, int k, int stride, int pad) {
    return new Conv2d(name, Var.constant(Tensor.full(0.1f, cout, cin, k, k)), null, stride, pad,
        1);
  }

  /**
   * Input 1×8×8. stem: conv 1→4 3×3 s1 p1 (36 params, out 8×8, 64·36 = 2304 MACs, pinned);
   * block: conv 4→8 3×3 s2 p1 (288 params, out 4×4, 16·288 = 4608 MACs) and conv 8→8 1×1
   * (64 params, 16·64 = 1024 MACs); head: linear 8→10 (80 params, 80 MACs, pinned).
   */
  static Model tiny() {
    Unit stem = new Chain("stem", List.of(conv("a", 1, 4, 3, 1, 1)));
    Unit block = new Chain("block", List.of(conv("b", 4, 8, 3, 2, 1), conv("c", 8, 8, 1, 1, 0)));
    Unit head = new Head(new Linear("fc", Var.constant(Tensor.full(0.1f, 10, 8)), null));
    return new Model("tiny", List.of(stem, block, head), new int[] {1, 8, 8}, 10);
  }

  @Test
  void layerCostsOfTheTinyNetwork() {
    CostModel cm = CostModel.of(tiny(), Kernels.of(NumericsConfig.defaults()));
    assertThat(cm.layers()).containsExactly(
        new LayerCost("a", "stem", 36, 2304, true),
        new LayerCost("b", "block", 288, 4608, false),
        new LayerCost("c", "block", 64, 1024, false),
        new LayerCost("fc", "fc", 80, 80, true));
    assertThat(cm.free()).extracting(LayerCost::layer).containsExactly("b", "c");
  }

  @Test
  void sizeAndBitOpsByHand() {
    CostModel cm = CostModel.of(tiny(), Kernels.of(NumericsConfig.defaults()));
    Map<String, Integer> bits = Map.of("b", 2, "c", 4);
    // 36·8 + 288·2 + 64·4 + 80·8
    assertThat(cm.sizeBits(bits)).isEqualTo(1760);
    // 2304·8·8 + 4608·2·4 + 1024·4·4 + 80·8·8
    assertThat(cm.bitOps(bits, 4)).isEqualTo(205_824);
    // weight-only: activations count 32 bits
    assertThat(cm.bitOps(bits, 32)).isEqualTo(2304L * 64 + 4608L * 2 * 32 + 1024L * 4 * 32
        + 80L * 64);
    assertThat(cm.sizeBits(cm.uniform(3))).isEqualTo(36 * 8 + 352 * 3 + 80 * 8);
  }

  @Test
  void budgetsInTheirUnits() {
    CostModel cm = CostModel.of(tiny(), Kernels.of(NumericsConfig.defaults()));
    assertThat(Budget.averageWeightBits(3, cm).limit()).isEqualTo(cm.sizeBits(cm.uniform(3)));
    assertThat(Budget.averageWeightBits(2.5, cm).limit()).isEqualTo(36 * 8 + 880 + 80 * 8);
    assertThat(Budget.sizeMegabytes(0.001).limit()).isEqualTo(8000);
    assertThat(Budget.bitOpsGiga(0.5).limit()).isEqualTo(500_000_000L);
  }

  @Test
  void bertLinearLayersCountEveryPositionAndTheHeadOnlyCls() {
    // hidden 16, 1 layer, 4 heads, FFN 32, vocabulary 40, max length 12, 3 labels
    BertConfig cfg = new BertConfig(16, 1, 4, 32, 40, 12, 2, 1e-12f, 3, 0);
    Model m = Berts.load("bert", Berts.fresh(cfg, new SplittableRandom(1)), cfg, 12, false);
    CostModel cm = CostModel.of(m, Kernels.of(NumericsConfig.defaults()),
        Tensor.full(5, 1, 12));
    String p = "bert.encoder.layer.0";
    assertThat(cm.layers()).containsExactly(
        new LayerCost(p + ".attention.self.query", p, 256, 12 * 256, false),
        new LayerCost(p + ".attention.self.key", p, 256, 12 * 256, false),
        new LayerCost(p + ".attention.self.value", p, 256, 12 * 256, false),
        new LayerCost(p + ".attention.output.dense", p, 256, 12 * 256, false),
        new LayerCost(p + ".intermediate.dense", p, 512, 12 * 512, false),
        new LayerCost(p + ".output.dense", p, 512, 12 * 512, false),
        new LayerCost("bert.pooler.dense", "bert.pooler", 256, 256, true),
        new LayerCost("classifier", "bert.pooler", 48, 48, true));
    // the image form refuses token ids in one line
    assertThatThrownBy(() -> CostModel.of(m, Kernels.of(NumericsConfig.defaults())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("give a probe input");
  }
}
