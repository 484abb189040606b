package org.qlimit.integer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.ScalarIntKernels;
import org.qlimit.model.ConvBn;
import org.qlimit.model.ConvUnit;
import org.qlimit.model.Head;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Conv2d;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.trace.SiteTensor;

/**
 * docs/INTEGER.md worked by hand on a two-unit network (1×1 conv + ReLU, then average pooling and
 * a classifier), with scales that are powers of two so that every requantization product is
 * exact and the ties of §3 show: 7.5 → 8, −1.5 → −2, 4.5 → 4 (ties to even; gemmlowp's half away
 * from zero would give 5 for 4.5).
 */
class IntegerSpecTest extends QuietTest {

  private static Model tiny(Activation act) {
    Conv2d conv = new Conv2d("c", Var.param("c.weight", Tensor.of(new float[] {1.5f}, 1, 1, 1, 1)),
        Var.param("c.bias", Tensor.of(new float[] {0.375f}, 1)), 1, 0, 1);
    Linear fc = new Linear("fc", Var.param("fc.weight", Tensor.of(new float[] {0.3f, -1f}, 2, 1)),
        Var.param("fc.bias", Tensor.of(new float[] {0.05f, -0.1f}, 2)));
    return new Model("tiny", List.of(new ConvUnit("c", new ConvBn(conv, null), act),
        new Head(fc)), new int[] {1, 1, 3}, 2);
  }

  private static QuantState state(Model m) {
    QuantState s = new QuantState(m);
    // conv: s_w = 0.25, z_w = 1, level 7 → w' = 6
    s.setWeight(m.layers().get(0), WeightQuantizer.Fixed.fromLevels(m.layers().get(0),
        new QParams(new float[] {0.25f}, new float[] {1f}, QScheme.asymmetric(4)), new int[] {7}));
    // fc: symmetric 8 bits, s_w = (0.1, 0.2), levels (3, −5)
    s.setWeight(m.layers().get(1), WeightQuantizer.Fixed.fromLevels(m.layers().get(1),
        new QParams(new float[] {0.1f, 0.2f}, new float[] {0f, 0f}, QScheme.symmetric(8)),
        new int[] {3, -5}));
    // site c: s_y = 0.25, z_y = 3, 4 bits
    s.setAct("c", ActQuantizer.fixed("c", QParams.perTensor(0.25f, 3f, QScheme.asymmetric(4))));
    return s;
  }

  /** Input: s = 0.5, z = 2, 8 bits; image (1.0, −0.5, 0.5) → levels (4, 1, 3), centered (2, −1, 1). */
  private static final QParams INPUT = QParams.perTensor(0.5f, 2f, QScheme.asymmetric(8));

  private static final Tensor IMAGE = Tensor.of(new float[] {1.0f, -0.5f, 0.5f}, 1, 1, 1, 3);

  @Test
  void theWorkedExampleOfTheSpecification() {
    IntegerNetwork net = IntegerNetwork.compile(state(tiny(Activation.RELU)), INPUT);
    List<SiteTensor> sites = new ArrayList<>();
    Tensor logits = net.run(new ScalarIntKernels(1), IMAGE, sites::add);
    // bias_q = ⌊0.375 / (0.25·0.5)⌉ = 3; acc = 6·(2, −1, 1) + 3 = (15, −3, 9)
    // M = 0.125 / 0.25 = 0.5: (7.5, −1.5, 4.5) → (8, −2, 4); + z_y = (11, 1, 7); ReLU: lo = 3
    assertThat(sites).hasSize(1);
    assertThat(sites.get(0).site()).isEqualTo("c");
    assertThat(sites.get(0).shape()).containsExactly(1, 1, 1, 3);
    assertThat(sites.get(0).levels()).containsExactly(11, 3, 7);
    // pool: (8 + 0 + 4) / 3 = 4; fc bias_q = ⌊0.05/(0.1·0.25)⌉ = 2, ⌊−0.1/(0.2·0.25)⌉ = −2
    // acc = (3·4 + 2, −5·4 − 2) = (14, −22); logit = acc · s_w · s_x
    assertThat(logits.data()).containsExactly((float) (14 * ((double) 0.1f * 0.25f)),
        (float) (-22 * ((double) 0.2f * 0.25f)));
  }

  @Test
  void reluSixIsTheUpperClamp() {
    // s_y = 0.25: 6 / 0.25 = 24 levels above z = 3 is beyond qmax 15 at 4 bits, so use the
    // 8-bit site: hi = 3 + 24 = 27 while 7.5 → 8 + 3 = 11 stays below it
    Model m = tiny(Activation.RELU6);
    QuantState s = state(m);
    s.setAct("c", ActQuantizer.fixed("c", QParams.perTensor(0.25f, 3f, QScheme.asymmetric(8))));
    Tensor big = Tensor.of(new float[] {10f, -0.5f, 0.5f}, 1, 1, 1, 3);
    List<SiteTensor> sites = new ArrayList<>();
    IntegerNetwork.compile(s, INPUT).run(new ScalarIntKernels(1), big, sites::add);
    // 10 → level 22, centered 20, acc = 123, ·0.5 = 61.5 → 62, + 3 = 65 → min(65, 27) = 27
    assertThat(sites.get(0).levels()).containsExactly(27, 3, 7);
  }

  @Test
  void aSoftWeightIsNamed() {
    Model m = tiny(Activation.RELU);
    QuantState s = state(m);
    s.setWeight(m.layers().get(0), WeightQuantizer.AdaRoundSoft.init(m.layers().get(0),
        new QParams(new float[] {0.25f}, new float[] {1f}, QScheme.asymmetric(4))));
    assertThatThrownBy(() -> IntegerNetwork.compile(s, INPUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("layer c has soft (unhardened) rounding; the integer path needs fixed "
            + "integer weights");
  }
}
