package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.data.CalibrationSampler;
import org.qlimit.data.Datasets;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.tools.ConvertQuantizedHashes;
import org.qlimit.util.Hashing;
import org.qlimit.util.NumericsConfig;

/**
 * {@code quantized_sha256} (v2) covers the FP biases and the schemes, not only the integer
 * digest; and the committed converter turns the earlier definition (the integer digest) into it
 * exactly, with and without activation quantization. RTN on the embedded ResNet-20, 8 images.
 */
class QuantHashTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final Path MODEL = Path.of("datasets/models/resnet20_fmnist.safetensors");
  private static Tensor calib;

  @BeforeAll
  static void load() throws Exception {
    Datasets.Split d = Datasets.load("fashion-mnist", null);
    calib = Evaluator.batch(d.train(), Normalization.FASHION_MNIST,
        CalibrationSampler.firstN(d.train(), 8));
  }

  private static QuantState rtn(Model m, int wbits, int abits) {
    ReconConfig c = ReconConfig.builder(Method.RTN, wbits, abits).iters(1).itersAct(1)
        .batchSize(8).seed(1005).brecqActImages(8).qdropActImages(8).build();
    return new Reconstructor(m, c, K, ReconListener.NONE).run(calib).state();
  }

  @Test
  void converterTurnsTheIntegerDigestIntoTheHashAtA4AndA32() throws Exception {
    Model m = Architectures.load("resnet20-fmnist", MODEL);
    for (int abits : new int[] {4, 32}) {
      QuantState s = rtn(m, 3, abits);
      String v1 = Hashing.hex(QuantExport.integerDigest(s));
      assertThat(ConvertQuantizedHashes.convert(m, abits, v1)).as("A%d", abits)
          .isEqualTo(QuantExport.sha256(s))
          .isNotEqualTo(v1);
    }
  }

  @Test
  void aDifferentBiasGivesADifferentHash(@TempDir Path dir) throws Exception {
    SafeTensorsFile f = SafeTensors.read(MODEL);
    List<TensorEntry> entries = new ArrayList<>();
    for (TensorEntry e : f.entries()) {
      if (e.name().equals("fc.bias")) {
        float[] v = e.asFloats();
        v[3] = Math.nextUp(v[3]);
        e = TensorEntry.f32(e.name(), e.shape(), v);
      }
      entries.add(e);
    }
    Path changed = dir.resolve("changed.safetensors");
    SafeTensors.write(changed, entries, f.metadata());
    // W2A32 RTN: the weights alone decide every integer, scale and zero point
    QuantState a = rtn(Architectures.load("resnet20-fmnist", MODEL), 2, 32);
    QuantState b = rtn(Architectures.load("resnet20-fmnist", changed), 2, 32);
    assertThat(QuantExport.integerDigest(b)).isEqualTo(QuantExport.integerDigest(a));
    assertThat(QuantExport.sha256(b)).isNotEqualTo(QuantExport.sha256(a));
  }

  @Test
  void aNonFiniteScaleInAQuantizedFileIsNamed(@TempDir Path dir) throws Exception {
    Model m = Architectures.load("resnet20-fmnist", MODEL);
    Path file = dir.resolve("q.safetensors");
    QuantExport.write(file, rtn(m, 4, 4), java.util.Map.of());
    SafeTensorsFile f = SafeTensors.read(file);
    List<TensorEntry> entries = new ArrayList<>();
    for (TensorEntry e : f.entries()) {
      if (e.name().equals("layer1.2.conv2.weight_scale")) {
        float[] v = e.asFloats();
        v[7] = Float.NaN;
        e = TensorEntry.f32(e.name(), e.shape(), v);
      }
      entries.add(e);
    }
    SafeTensors.write(file, entries, f.metadata());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> QuantExport.read(file, m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(file + ": tensor layer1.2.conv2.weight_scale has NaN at index 7 (scales "
            + "must be finite and positive)");
  }
}
