package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Quantities derived while quantizing are checked where they are computed: a reconstruction
 * loss that turns NaN mid-unit stops the run naming the unit and the iteration, the units done
 * before stay in the checkpoint, and resuming from it once the cause is gone ends with the bits
 * of an uninterrupted run; a non-finite activation reaching an observer names the site.
 * The embedded ResNet-20, 4 images: BRECQ W2A32, 3 iterations per unit, for the loss; RTN W2A4
 * for the site.
 */
class NonFiniteLossTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static Model model;
  private static Tensor calib;

  @BeforeAll
  static void load() throws Exception {
    model = Embedded.resnet20();
    calib = Embedded.calibration(4);
  }

  private static ReconConfig tiny(Method m, int abits) {
    return ReconConfig.builder(m, 2, abits).iters(3).itersAct(3).batchSize(4).seed(1005)
        .brecqActImages(4).qdropActImages(4).build();
  }

  private static float[] bias(String layer) {
    for (Layer l : model.layers()) {
      if (l.name().equals(layer)) {
        return l.bias().value().data();
      }
    }
    throw new AssertionError("no layer " + layer);
  }

  @Test
  void aNanLossStopsTheRunNamingUnitAndIterationAndResumeContinues(@TempDir Path dir)
      throws Exception {
    ReconConfig cfg = tiny(Method.BRECQ, 32);
    String clean = QuantExport.sha256(new Reconstructor(model, cfg, K, ReconListener.NONE)
        .run(calib).state());

    float[] b = bias("layer1.1.conv1");
    float saved = b[0];
    Path file = dir.resolve("checkpoint.safetensors");
    List<List<UnitRecord>> saves = new ArrayList<>();
    // after iteration 2 of unit layer1.1, a NaN appears in one of its biases (as an overflow
    // upstream would make it); iteration 3's loss is then NaN
    ReconListener poison = new ReconListener() {
      private String unit;

      @Override
      public void unitStart(int index, int count, String name, String phase, int iters) {
        unit = name;
      }

      @Override
      public void iteration(int t, int iters, double loss, double recLoss, double roundLoss) {
        if (unit.equals("layer1.1") && t == 2) {
          b[0] = Float.NaN;
        }
      }
    };
    Reconstructor r = new Reconstructor(model, cfg, K, poison).checkpointEach(c -> {
      try {
        QuantExport.write(file, c.state(), Map.of());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      saves.add(c.records());
    });
    try {
      assertThatThrownBy(() -> r.run(calib))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("unit layer1.1 (weights): reconstruction loss is NaN at iteration 3 of 3; "
              + "2 unit(s) finished before it");
    } finally {
      b[0] = saved;
    }
    List<UnitRecord> done = saves.get(saves.size() - 1);
    assertThat(done).extracting(UnitRecord::unit).containsExactly("conv1", "layer1.0");

    String resumed = QuantExport.sha256(new Reconstructor(model, cfg, K, ReconListener.NONE)
        .resumeFrom(new Reconstructor.Checkpoint(QuantExport.read(file, model), done))
        .run(calib).state());
    assertThat(resumed).isEqualTo(clean);
  }

  @Test
  void aNonFiniteActivationIsNamedAtItsSite() {
    float[] b = bias("layer2.0.conv1");
    float saved = b[1];
    b[1] = Float.POSITIVE_INFINITY;
    try {
      assertThatThrownBy(() -> new Reconstructor(model, tiny(Method.RTN, 4), K,
          ReconListener.NONE)
          .run(calib))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("activation site layer2.0.conv1: value ")
          .hasMessageContaining(" is +Inf (NaN or infinity reached the observer)");
    } finally {
      b[1] = saved;
    }
  }

  @Test
  void aStepThatIsNotFiniteNamesTheSiteAndTheRange() {
    assertThatThrownBy(() -> Reconstructor.observed("activation site s", new float[] {-3e38f,
        3e38f}, () -> org.qlimit.quant.QParams.fromRange(-3e38f, 3e38f,
            org.qlimit.quant.QScheme.asymmetric(4))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("activation site s: step is +Inf (range [-3.0E38, 3.0E38])");
  }
}
