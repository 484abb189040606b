package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * Reconstruction with its caches in memory-mapped files ends with the same quantized model
 * (same {@link QuantExport#sha256}) as with its caches in the heap: embedded ResNet-20, W2A4, 70
 * calibration images (two evaluation batches), 2 iterations per unit, mappings of 7 rows so that
 * every cache spans several chunks.
 */
class MappedCacheReconTest extends QuietTest {
  private static Model model;
  private static Tensor calib;
  private static final Kernels K = Kernels.of(NumericsConfig.defaults());

  @BeforeAll
  static void load() throws Exception {
    model = Embedded.resnet20();
    calib = Embedded.calibration(70);
  }

  private static String sha(Method m, CacheStore store) {
    ReconConfig c = MethodsEndToEndTest.tiny(m, 2, 4).withIters(2, 2);
    return QuantExport.sha256(new Reconstructor(model, c, K, ReconListener.NONE)
        .cacheStore(store).run(calib).state());
  }

  private static void sameBits(Method m, Path dir) throws IOException {
    String heap = sha(m, CacheStore.HEAP);
    // the largest cache row is 16×28×28 floats: 7 rows per mapping
    try (MappedCacheStore store = new MappedCacheStore(dir, 7L * 16 * 28 * 28 * Float.BYTES)) {
      assertThat(sha(m, store)).as(m.cliName()).isEqualTo(heap);
      assertThat(store.bytesInUse()).as("caches left open by the run").isZero();
    }
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).isEmpty();
    }
  }

  @Test
  void qdropSameBits(@TempDir Path dir) throws IOException {
    sameBits(Method.QDROP, dir);
  }

  @Test
  void brecqSameBits(@TempDir Path dir) throws IOException {
    sameBits(Method.BRECQ, dir);
  }

  @Test
  void adaroundSameBits(@TempDir Path dir) throws IOException {
    sameBits(Method.ADAROUND, dir);
  }
}
