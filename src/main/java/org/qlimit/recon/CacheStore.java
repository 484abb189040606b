package org.qlimit.recon;

import java.io.IOException;
import java.nio.file.Path;
import org.qlimit.tensor.Tensor;

/**
 * Where reconstruction keeps its {@link ActivationCache}s: {@link #HEAP} (Java arrays) or
 * {@link #mapped} (memory-mapped files in a folder, for caches larger than the heap). Both
 * return the bits that were written, so the choice never changes a result.
 */
public interface CacheStore extends AutoCloseable {

  /**
   * A new zero-filled cache of {@code rows} rows of shape {@code rowShape}. Errors:
   * IllegalArgumentException on a negative size; UncheckedIOException when a mapped file cannot
   * be created.
   */
  ActivationCache allocate(int rows, int[] rowShape);

  /** True for memory-mapped storage. */
  boolean mapped();

  /** Releases every cache still allocated (a mapped store deletes its files and folder). */
  @Override
  void close();

  /** Java heap arrays. */
  CacheStore HEAP = new CacheStore() {
    @Override
    public ActivationCache allocate(int rows, int[] rowShape) {
      int[] s = new int[rowShape.length + 1];
      s[0] = rows;
      System.arraycopy(rowShape, 0, s, 1, rowShape.length);
      return ActivationCache.of(Tensor.zeros(s));
    }

    @Override
    public boolean mapped() {
      return false;
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
      return "heap";
    }
  };

  /**
   * Memory-mapped files in a new folder {@code activation-cache-*} created under {@code parent}
   * (created if missing); {@link #close} deletes the files and the folder.
   */
  static MappedCacheStore mapped(Path parent) throws IOException {
    return new MappedCacheStore(parent, MappedCacheStore.MAX_CHUNK_BYTES);
  }
}
