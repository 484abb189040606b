package org.qlimit.recon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * A {@link CacheStore} that keeps each cache in its own file ({@code cache-NNNN.f32}: the rows as
 * raw floats in the platform's byte order, row after row) under a folder of its own, mapped into
 * memory with {@link FileChannel#map}. The operating system pages the values in and out, so the
 * caches may exceed the Java heap; what is read back has the bits that were written.
 *
 * <p>One mapping covers at most {@link #MAX_CHUNK_BYTES} (a {@code MappedByteBuffer} is indexed
 * by int, so a mapping is limited to 2 GiB): a file is mapped as consecutive chunks of whole rows.
 * Closing a cache deletes its file; closing the store deletes the files left and the folder. (On
 * Linux a deleted file's pages are freed when its mapping is garbage-collected; JDK 17 has no
 * public way to unmap.)
 */
public final class MappedCacheStore implements CacheStore {
  /** Largest mapping: 1 GiB, a power of two below the 2 GiB limit of one mapping. */
  public static final long MAX_CHUNK_BYTES = 1L << 30;

  private final Path dir;
  private final long maxChunkBytes;
  private final List<MappedCache> open = new ArrayList<>();
  private int next;
  private boolean closed;

  /** A store in a new folder under {@code parent}, with mappings of at most maxChunkBytes. */
  MappedCacheStore(Path parent, long maxChunkBytes) throws IOException {
    Check.arg(maxChunkBytes >= Float.BYTES && maxChunkBytes <= Integer.MAX_VALUE,
        "mapped cache: chunk size %d outside [4, 2^31 - 1] bytes", maxChunkBytes);
    Files.createDirectories(parent);
    this.dir = Files.createTempDirectory(parent, "activation-cache-");
    this.maxChunkBytes = maxChunkBytes;
  }

  /** The folder holding the files. */
  public Path directory() {
    return dir;
  }

  @Override
  public boolean mapped() {
    return true;
  }

  @Override
  public synchronized ActivationCache allocate(int rows, int[] rowShape) {
    Check.state(!closed, "mapped cache store %s is closed", dir);
    Check.arg(rows >= 0, "cache rows must be >= 0, got %d", rows);
    long rowSize = 1;
    for (int d : rowShape) {
      Check.arg(d >= 0, "cache row shape %s has a negative size", Arrays.toString(rowShape));
      rowSize *= d;
    }
    Check.arg(rowSize <= Integer.MAX_VALUE, "cache row shape %s has more than 2^31 - 1 values",
        Arrays.toString(rowShape));
    Path file = dir.resolve(String.format(java.util.Locale.ROOT, "cache-%04d.f32", next++));
    MappedCache c = new MappedCache(file, rows, rowShape.clone(), (int) rowSize);
    open.add(c);
    return c;
  }

  /** Total bytes of the caches now allocated (what the folder holds). */
  public synchronized long bytesInUse() {
    long b = 0;
    for (MappedCache c : open) {
      b += (long) c.rows * c.rowSize * Float.BYTES;
    }
    return b;
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (MappedCache c : new ArrayList<>(open)) {
      c.close();
    }
    try {
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      dir.toFile().deleteOnExit();
    }
  }

  private synchronized void released(MappedCache c) {
    open.remove(c);
  }

  @Override
  public String toString() {
    return "memory-mapped files in " + dir;
  }

  /** One cache: a file mapped as chunks of {@code rowsPerChunk} rows. */
  private final class MappedCache implements ActivationCache {
    private final Path file;
    private final int rows;
    private final int[] rowShape;
    private final int rowSize;
    private final int rowsPerChunk;
    private FloatBuffer[] chunks;

    MappedCache(Path file, int rows, int[] rowShape, int rowSize) {
      this.file = file;
      this.rows = rows;
      this.rowShape = rowShape;
      this.rowSize = rowSize;
      long rowBytes = (long) rowSize * Float.BYTES;
      Check.arg(rowBytes <= maxChunkBytes, "cache row of %d bytes exceeds one mapping (%d bytes)",
          rowBytes, maxChunkBytes);
      this.rowsPerChunk = rowBytes == 0 ? Math.max(1, rows) : (int) (maxChunkBytes / rowBytes);
      int count = rows == 0 ? 0 : (rows + rowsPerChunk - 1) / rowsPerChunk;
      chunks = new FloatBuffer[count];
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        for (int i = 0; i < count; i++) {
          long first = (long) i * rowsPerChunk;
          long n = Math.min(rowsPerChunk, rows - first);
          MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, first * rowBytes,
              n * rowBytes);
          chunks[i] = b.order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the mapped cache file " + file + ": "
            + e.getMessage(), e);
      }
    }

    @Override
    public int rows() {
      return rows;
    }

    @Override
    public int[] rowShape() {
      return rowShape.clone();
    }

    @Override
    public int rowSize() {
      return rowSize;
    }

    private FloatBuffer chunk(int row) {
      Check.state(chunks != null, "mapped cache %s is closed", file);
      return chunks[row / rowsPerChunk];
    }

    private Tensor empty(int n) {
      int[] s = new int[rowShape.length + 1];
      s[0] = n;
      System.arraycopy(rowShape, 0, s, 1, rowShape.length);
      return Tensor.zeros(s);
    }

    @Override
    public Tensor rows(int from, int to) {
      Check.arg(from >= 0 && from <= to && to <= rows, "cache rows [%d, %d) outside [0, %d)",
          from, to, rows);
      Tensor out = empty(to - from);
      float[] od = out.data();
      int r = from;
      while (r < to) {
        int inChunk = r % rowsPerChunk;
        int n = Math.min(to - r, rowsPerChunk - inChunk);
        chunk(r).get(inChunk * rowSize, od, (r - from) * rowSize, n * rowSize);
        r += n;
      }
      return out;
    }

    @Override
    public Tensor gather(int[] idx) {
      Tensor out = empty(idx.length);
      float[] od = out.data();
      for (int i = 0; i < idx.length; i++) {
        Check.arg(idx[i] >= 0 && idx[i] < rows, "cache row %d outside [0, %d)", idx[i], rows);
        chunk(idx[i]).get((idx[i] % rowsPerChunk) * rowSize, od, i * rowSize, rowSize);
      }
      return out;
    }

    @Override
    public void write(int at, Tensor block) {
      ActivationCache.checkBlock(this, at, block);
      float[] bd = block.contiguous().data();
      int to = at + block.dim(0);
      int r = at;
      while (r < to) {
        int inChunk = r % rowsPerChunk;
        int n = Math.min(to - r, rowsPerChunk - inChunk);
        chunk(r).put(inChunk * rowSize, bd, (r - at) * rowSize, n * rowSize);
        r += n;
      }
    }

    @Override
    public void close() {
      if (chunks == null) {
        return;
      }
      chunks = null;
      released(this);
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        file.toFile().deleteOnExit();
      }
    }
  }
}
