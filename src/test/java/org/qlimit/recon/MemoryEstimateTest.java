package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/** The memory estimate, checked by hand on ResNet-20 / Fashion-MNIST (16×28×28 stem). */
class MemoryEstimateTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());
  private static final long STEM = 16L * 28 * 28 * Float.BYTES;

  private static MemoryEstimate of(Method m, int images) throws Exception {
    Model model = Architectures.load("resnet20-fmnist",
        Path.of("datasets/models/resnet20_fmnist.safetensors"));
    return MemoryEstimate.of(model, ReconConfig.defaults(m, 2, 4, 10), images, 1000, K);
  }

  @Test
  void qdropPeaksAtTheFirstBlockWithFourStemSizedCaches() throws Exception {
    // layer1.0: FP and quantized inputs, FP output, then the quantized output
    MemoryEstimate e = of(Method.QDROP, 5000);
    assertThat(e.cachePerImage()).isEqualTo(4 * STEM);
    assertThat(e.peakUnit()).isEqualTo("layer1.0");
    assertThat(e.caches()).isEqualTo(5000 * 4 * STEM);
    assertThat(e.data()).isEqualTo(1000);
    assertThat(e.model()).isPositive();
    assertThat(e.working()).isPositive();
    assertThat(e.total()).isEqualTo(e.caches() + e.model() + e.data() + e.working());
    assertThat(e.describe()).startsWith(MemoryEstimate.bytes(e.total()) + " = caches 957.0 MiB "
        + "(196.0 KiB per calibration image × 5000, peak at layer1.0) + model ");
  }

  @Test
  void rtnCachesNothingAndAdaRoundHoldsTheLayerInputs() throws Exception {
    MemoryEstimate rtn = of(Method.RTN, 100);
    assertThat(rtn.caches()).isZero();
    assertThat(rtn.describe()).contains("caches none");
    // layer1.0: FP and quantized unit inputs, both layers' FP inputs, one layer's quantized
    // input and target
    assertThat(of(Method.ADAROUND, 100).cachePerImage()).isEqualTo(6 * STEM);
  }

  @Test
  void cachesFitWhenTheTotalAndTheMarginFit() {
    long mib = 1L << 20;
    MemoryEstimate e = new MemoryEstimate(100, mib, "u", 0, 0, 0);
    assertThat(e.total()).isEqualTo(100 * mib);
    assertThat(MemoryEstimate.margin(200 * mib)).isEqualTo(64 * mib);
    assertThat(MemoryEstimate.margin(1000 * mib)).isEqualTo(200 * mib);
    assertThat(e.cachesFitHeap(164 * mib)).isTrue();
    assertThat(e.cachesFitHeap(164 * mib - 1)).isFalse();
  }

  @Test
  void bytesUseBinaryUnits() {
    assertThat(MemoryEstimate.bytes(512)).isEqualTo("512 B");
    assertThat(MemoryEstimate.bytes(1536)).isEqualTo("1.5 KiB");
    assertThat(MemoryEstimate.bytes(3L << 30)).isEqualTo("3.0 GiB");
  }
}
