package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.kernel.Kernels;
import org.qlimit.kernel.VectorWidths;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * A run killed after some units and resumed from its last checkpoint ends with the same
 * {@code quantized_sha256} as an uninterrupted run, for QDrop (one joint phase) and BRECQ (killed
 * in its second phase), also when resumed with another thread count and vector width; and a
 * checkpoint written to a file and read back is the same quantization.
 */
@Tag(VectorWidths.TAG)
class CheckpointResumeTest extends QuietTest {
  private static Model model;
  private static Tensor calib;

  @BeforeAll
  static void load() throws Exception {
    model = Embedded.resnet20();
    calib = Embedded.calibration(16);
  }

  private static ReconConfig tiny(Method m) {
    return ReconConfig.builder(m, 2, 4).iters(4).itersAct(3).batchSize(8).seed(1005)
        .brecqActImages(8).qdropActImages(8).build();
  }

  /** Thrown by the checkpoint sink to simulate a run killed right after a unit. */
  private static final class Killed extends RuntimeException {
    Killed() {
      super("killed", null, false, false);
    }
  }

  private static String killAndResume(Method m, int killAfter, Kernels first, Kernels second,
      Path dir) throws Exception {
    Path file = dir.resolve(m + ".safetensors");
    List<Reconstructor.Checkpoint> kept = new ArrayList<>();
    Reconstructor r1 = new Reconstructor(model, tiny(m), first, ReconListener.NONE)
        .checkpointEach(c -> {
          try {
            QuantExport.write(file, c.state(), java.util.Map.of());
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
          kept.add(c);
          if (c.records().size() == killAfter) {
            throw new Killed();
          }
        });
    assertThatThrownBy(() -> r1.run(calib)).isInstanceOf(Killed.class);
    Reconstructor.Checkpoint last = kept.get(kept.size() - 1);
    assertThat(last.records()).hasSize(killAfter);
    QuantState restored = QuantExport.read(file, model);
    assertThat(QuantExport.sha256(restored)).isEqualTo(QuantExport.sha256(last.state()));
    Reconstructor.Result done = new Reconstructor(model, tiny(m), second, ReconListener.NONE)
        .resumeFrom(new Reconstructor.Checkpoint(restored, last.records()))
        .run(calib);
    assertThat(done.records().subList(0, killAfter)).isEqualTo(last.records());
    return QuantExport.sha256(done.state());
  }

  @Test
  void qdropResumedEqualsUninterrupted(@TempDir Path dir) throws Exception {
    Kernels k = Kernels.of(new NumericsConfig(256, 2));
    Reconstructor.Result full = new Reconstructor(model, tiny(Method.QDROP), k, ReconListener.NONE)
        .run(calib);
    String resumed = killAndResume(Method.QDROP, 4, k,
        Kernels.of(new NumericsConfig(128, 1)), dir);
    assertThat(resumed).isEqualTo(QuantExport.sha256(full.state()));
    assertThat(Files.exists(dir.resolve("QDROP.safetensors"))).isTrue();
  }

  @Test
  void brecqKilledInSecondPhaseResumedEqualsUninterrupted(@TempDir Path dir) throws Exception {
    Kernels k = Kernels.of(new NumericsConfig(256, 2));
    Reconstructor.Result full = new Reconstructor(model, tiny(Method.BRECQ), k, ReconListener.NONE)
        .run(calib);
    int weightUnits = model.units().size();
    // killed after the first two units of the activation phase
    String resumed = killAndResume(Method.BRECQ, weightUnits + 2, k, k, dir);
    assertThat(resumed).isEqualTo(QuantExport.sha256(full.state()));
  }

  @Test
  void checkpointsOfAnotherModelOrArchitectureAreRefused(@TempDir Path dir) throws Exception {
    Kernels k = Kernels.of(new NumericsConfig(256, 1));
    QuantState s = new Reconstructor(model, tiny(Method.RTN), k, ReconListener.NONE).run(calib)
        .state();
    Model twin = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    assertThatThrownBy(() -> new Reconstructor(twin, tiny(Method.QDROP), k, ReconListener.NONE)
        .resumeFrom(new Reconstructor.Checkpoint(s, List.of())))
        .hasMessageContaining("different model");
    Path file = dir.resolve("q.safetensors");
    QuantExport.write(file, s, java.util.Map.of());
    assertThat(QuantExport.sha256(QuantExport.read(file, twin))).isEqualTo(QuantExport.sha256(s));
    Model other = Architectures.load("mobilenetv2-small-fmnist",
        Path.of("datasets/models/mobilenetv2_small_fmnist.safetensors"));
    assertThatThrownBy(() -> QuantExport.read(file, other))
        .hasMessageContaining("quantizes architecture resnet20-fmnist, not mobilenetv2-small-fmnist");
  }
}
