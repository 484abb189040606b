package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;

/**
 * The heap and memory-mapped {@link ActivationCache}s return the bits that were written, for any
 * split into mappings (chunks of whole rows, reads and writes that cross chunk borders), and a
 * mapped store leaves no file behind.
 */
class ActivationCacheTest extends QuietTest {
  private static final int ROWS = 11;
  private static final int[] ROW = {2, 3};

  /** Row r, element j: distinct bit patterns, NaN payloads, −0, subnormals and infinities. */
  private static Tensor sample() {
    float[] v = new float[ROWS * 6];
    for (int i = 0; i < v.length; i++) {
      v[i] = switch (i % 6) {
        case 0 -> Float.intBitsToFloat(0x7fc00000 | i); // NaN with a payload
        case 1 -> -0f;
        case 2 -> Float.MIN_VALUE * i;
        case 3 -> i % 12 == 3 ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        default -> (float) Math.scalb(1.0 + i / 64.0, i - 30);
      };
    }
    return Tensor.of(v, ROWS, 2, 3);
  }

  private static int[] bits(Tensor t) {
    float[] d = t.contiguous().data();
    int[] b = new int[d.length];
    for (int i = 0; i < d.length; i++) {
      b[i] = Float.floatToRawIntBits(d[i]);
    }
    return b;
  }

  /** Writes {@code src} in blocks of 4 rows, then checks every read against the heap cache. */
  private static void checkAgainstHeap(ActivationCache c, Tensor src) {
    for (int at = 0; at < ROWS; at += 4) {
      c.write(at, src.slice(at, Math.min(ROWS, at + 4)));
    }
    ActivationCache heap = ActivationCache.of(src);
    assertThat(c.rows()).isEqualTo(ROWS);
    assertThat(c.rowShape()).containsExactly(ROW);
    assertThat(c.rowSize()).isEqualTo(6);
    for (int from = 0; from <= ROWS; from++) {
      for (int to = from; to <= ROWS; to++) {
        assertThat(bits(c.rows(from, to))).as("rows [%d, %d)", from, to)
            .containsExactly(bits(heap.rows(from, to)));
      }
    }
    int[] idx = {10, 0, 3, 3, 7, 2, 9};
    assertThat(c.gather(idx).shape()).containsExactly(7, 2, 3);
    assertThat(bits(c.gather(idx))).containsExactly(bits(heap.gather(idx)));
    assertThatThrownBy(() -> c.gather(new int[] {ROWS})).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("row 11 outside [0, 11)");
    assertThatThrownBy(() -> c.rows(3, 12)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("rows [3, 12) outside [0, 11)");
    assertThatThrownBy(() -> c.write(10, src.slice(0, 2))).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("rows [10, 12) outside [0, 11)");
    assertThatThrownBy(() -> c.write(0, Tensor.zeros(1, 3, 2))).isInstanceOf(
        IllegalArgumentException.class).hasMessageContaining("does not have row shape [2, 3]");
  }

  @Test
  void heapStoreKeepsTheBits() {
    checkAgainstHeap(CacheStore.HEAP.allocate(ROWS, ROW), sample());
  }

  @Test
  void mappedStoreKeepsTheBitsForAnyChunking(@TempDir Path dir) throws IOException {
    Tensor src = sample();
    int rowBytes = 6 * Float.BYTES;
    // 1, 3 and 4 rows per mapping (reads cross chunk borders), and one mapping for all rows
    for (long chunk : new long[] {rowBytes, 3L * rowBytes + 5, 4L * rowBytes,
        MappedCacheStore.MAX_CHUNK_BYTES}) {
      try (MappedCacheStore store = new MappedCacheStore(dir, chunk)) {
        ActivationCache c = store.allocate(ROWS, ROW);
        assertThat(store.bytesInUse()).isEqualTo((long) ROWS * rowBytes);
        checkAgainstHeap(c, src);
      }
    }
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left).as("files left by closed stores").isEmpty();
    }
  }

  @Test
  void closingDeletesFilesAndFolder(@TempDir Path dir) throws IOException {
    MappedCacheStore store = CacheStore.mapped(dir.resolve("out"));
    assertThat(store.mapped()).isTrue();
    assertThat(store.directory().getParent()).isEqualTo(dir.resolve("out"));
    ActivationCache a = store.allocate(5, new int[] {4});
    ActivationCache b = store.allocate(3, new int[] {2, 2});
    try (Stream<Path> files = Files.list(store.directory())) {
      assertThat(files).hasSize(2);
    }
    a.close();
    try (Stream<Path> files = Files.list(store.directory())) {
      assertThat(files).hasSize(1);
    }
    assertThatThrownBy(() -> a.rows(0, 1)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
    assertThat(b.rows(0, 3).numel()).isEqualTo(12);
    store.close();
    assertThat(store.directory()).doesNotExist();
    assertThat(store.bytesInUse()).isZero();
    assertThatThrownBy(() -> store.allocate(1, new int[] {1}))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
  }

  @Test
  void aRowLargerThanOneMappingIsRefused(@TempDir Path dir) throws IOException {
    try (MappedCacheStore store = new MappedCacheStore(dir, 16)) {
      assertThatThrownBy(() -> store.allocate(2, new int[] {5}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("cache row of 20 bytes exceeds one mapping (16 bytes)");
    }
  }
}
