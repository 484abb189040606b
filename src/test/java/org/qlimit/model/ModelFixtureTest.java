package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Golden logits for the torchvision-layout builders against an independent float64 numpy
 * forward pass ({@code src/test/resources/fixtures/generate_model_fixtures.py}, which documents
 * how to regenerate). The checkpoints have torchvision's exact tensor names, order and shapes
 * (including I64 {@code num_batches_tracked}), at reduced width to keep the files small: ResNets
 * with base width 8 instead of 64, MobileNetV2 with width multiplier 0.25; input 2×3×64×64, 10
 * classes.
 */
class ModelFixtureTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final double TOL = 1e-4;

  static Path fixture(String name) {
    try {
      return Path.of(ModelFixtureTest.class.getResource("/fixtures/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static StateDict weights(String model) throws IOException {
    return Checkpoints.read(fixture(file(model)));
  }

  private static String file(String model) {
    return switch (model) {
      case "resnet18" -> "resnet18-w8.safetensors";
      case "resnet50" -> "resnet50-w8.safetensors";
      case "mobilenetv2" -> "mobilenetv2-w0.25.safetensors";
      default -> throw new IllegalArgumentException(model);
    };
  }

  static Model build(String model, StateDict sd, boolean fold) {
    return switch (model) {
      case "resnet18" -> TorchvisionResNets.load(model, sd, TorchvisionResNets.Depth.RESNET18, 8,
          64, 10, fold);
      case "resnet50" -> TorchvisionResNets.load(model, sd, TorchvisionResNets.Depth.RESNET50, 8,
          64, 10, fold);
      case "mobilenetv2" -> MobileNetV2s.torchvision(model, sd, 0.25, 64, 10, fold);
      default -> throw new IllegalArgumentException(model);
    };
  }

  private static Tensor entry(SafeTensorsFile f, String name) {
    TensorEntry e = f.get(name);
    return Tensor.of(e.asFloats(), e.intShape());
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50", "mobilenetv2"})
  void logitsMatchTheNumpyReference(String model) throws IOException {
    SafeTensorsFile io = SafeTensors.read(fixture("model-logits.safetensors"));
    Tensor x = entry(io, "input");
    Tensor want = entry(io, model + ".logits");
    for (boolean fold : new boolean[] {false, true}) {
      Model m = build(model, weights(model), fold);
      Tensor got = m.forward(Graph.inference(K), Var.constant(x), ForwardContext.FP).value();
      assertThat(got.shape()).containsExactly(want.shape());
      double worst = 0;
      double worstRel = 0;
      for (int i = 0; i < want.numel(); i++) {
        double d = Math.abs(got.data()[i] - want.data()[i]);
        worst = Math.max(worst, d);
        worstRel = Math.max(worstRel, d / Math.max(1e-6, Math.abs(want.data()[i])));
      }
      assertThat(worst).as("%s (fold=%s) logits: max |Δ| = %.3g, max rel Δ = %.3g", model, fold,
          worst, worstRel).isLessThanOrEqualTo(TOL);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50", "mobilenetv2"})
  void missingTensorIsNamed(String model) throws IOException {
    StateDict full = weights(model);
    String victim = full.names().get(full.names().size() / 2);
    StateDict sd = copy(full, victim, null);
    assertThatThrownBy(() -> build(model, sd, true)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing tensor '" + victim + "'");
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50", "mobilenetv2"})
  void extraTensorIsNamed(String model) throws IOException {
    StateDict sd = weights(model);
    sd.put("layer5.0.conv1.weight", Tensor.zeros(1, 1, 1, 1));
    assertThatThrownBy(() -> build(model, sd, true)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not used by this architecture")
        .hasMessageContaining("layer5.0.conv1.weight");
  }

  @ParameterizedTest
  @ValueSource(strings = {"resnet18", "resnet50", "mobilenetv2"})
  void wrongShapeIsNamed(String model) throws IOException {
    StateDict full = weights(model);
    String victim = full.names().get(full.names().size() / 3);
    Tensor bad = Tensor.zeros(full.asMap().get(victim).numel() + 1);
    StateDict sd = copy(full, victim, bad);
    assertThatThrownBy(() -> build(model, sd, true)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tensor '" + victim + "' has shape");
  }

  /** A copy of sd with {@code name} replaced by {@code with}, or dropped when it is null. */
  private static StateDict copy(StateDict sd, String name, Tensor with) {
    StateDict out = new StateDict(sd.source());
    for (Map.Entry<String, Tensor> e : sd.asMap().entrySet()) {
      if (!e.getKey().equals(name)) {
        out.put(e.getKey(), e.getValue());
      } else if (with != null) {
        out.put(name, with);
      }
    }
    return out;
  }
}
