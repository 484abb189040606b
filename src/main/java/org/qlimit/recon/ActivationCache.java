package org.qlimit.recon;

import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * Cached activations over the calibration set: {@link #rows()} rows of one shape (a unit's inputs
 * or outputs, one row per calibration image), kept in the heap or in a memory-mapped file
 * ({@link CacheStore}). Reconstruction reads them only through this interface, so where they
 * are kept changes no bit: every read returns the exact float bits that were written.
 *
 * <p>Layout: row r holds the dense row-major values of one image's tensor of shape
 * {@link #rowShape()}; reads return new dense tensors of shape (count, rowShape...).
 */
public interface ActivationCache extends AutoCloseable {

  /** Number of rows (calibration images). */
  int rows();

  /** Shape of one row, without the batch dimension (a copy). */
  int[] rowShape();

  /** Values per row: the product of {@link #rowShape()}. */
  default int rowSize() {
    int s = 1;
    for (int d : rowShape()) {
      s *= d;
    }
    return s;
  }

  /**
   * Rows [from, to) as a dense tensor (to − from, rowShape...). The result may share storage
   * with a heap cache: treat it as read-only. Errors: IllegalArgumentException when the range is
   * outside [0, rows()].
   */
  Tensor rows(int from, int to);

  /**
   * Rows idx[0], idx[1], ... in that order, as a new dense tensor (idx.length, rowShape...).
   * idx: Not modified. Errors: IllegalArgumentException when an index is outside [0, rows()).
   */
  Tensor gather(int[] idx);

  /**
   * Writes the rows of {@code block} (shape (m, rowShape...)) at rows [at, at + m).
   * block: Not modified; this cache: Modified. Errors: IllegalArgumentException on a shape
   * mismatch or a range outside [0, rows()].
   */
  void write(int at, Tensor block);

  /** Releases the storage (a mapped cache deletes its file); the cache is unusable afterwards. */
  @Override
  void close();

  /**
   * A heap cache over the rows (dimension 0) of {@code t} (rank ≥ 1), sharing its storage when
   * {@code t} is dense and copying it otherwise.
   */
  static ActivationCache of(Tensor t) {
    return new HeapCache(t.contiguous());
  }

  /** Checks that a block of {@code m} rows fits at {@code at} and has this cache's row shape. */
  static void checkBlock(ActivationCache c, int at, Tensor block) {
    int[] s = block.shape();
    int[] row = c.rowShape();
    boolean same = s.length == row.length + 1;
    for (int i = 0; same && i < row.length; i++) {
      same = s[i + 1] == row[i];
    }
    Check.arg(same, "cache write: block %s does not have row shape %s", block,
        java.util.Arrays.toString(row));
    Check.arg(at >= 0 && at + s[0] <= c.rows(), "cache write: rows [%d, %d) outside [0, %d)", at,
        at + s[0], c.rows());
  }

  /** Rows of a dense heap tensor. */
  final class HeapCache implements ActivationCache {
    private final Tensor t;
    private final int rowSize;

    HeapCache(Tensor dense) {
      Check.arg(dense.rank() >= 1 && dense.isDense(), "heap cache needs a dense tensor, got %s",
          dense);
      this.t = dense;
      this.rowSize = dense.dim(0) == 0 ? 0 : dense.numel() / dense.dim(0);
    }

    @Override
    public int rows() {
      return t.dim(0);
    }

    @Override
    public int[] rowShape() {
      int[] s = t.shape();
      return java.util.Arrays.copyOfRange(s, 1, s.length);
    }

    @Override
    public int rowSize() {
      return rowSize;
    }

    @Override
    public Tensor rows(int from, int to) {
      Check.arg(from >= 0 && from <= to && to <= rows(), "cache rows [%d, %d) outside [0, %d)",
          from, to, rows());
      return t.slice(from, to).contiguous();
    }

    @Override
    public Tensor gather(int[] idx) {
      int[] s = t.shape();
      s[0] = idx.length;
      Tensor out = Tensor.zeros(s);
      float[] sd = t.data();
      float[] od = out.data();
      for (int i = 0; i < idx.length; i++) {
        Check.arg(idx[i] >= 0 && idx[i] < rows(), "cache row %d outside [0, %d)", idx[i],
            rows());
        System.arraycopy(sd, idx[i] * rowSize, od, i * rowSize, rowSize);
      }
      return out;
    }

    @Override
    public void write(int at, Tensor block) {
      checkBlock(this, at, block);
      Tensor b = block.contiguous();
      System.arraycopy(b.data(), 0, t.data(), at * rowSize, b.numel());
    }

    @Override
    public void close() {
      // heap storage is reclaimed by the garbage collector
    }
  }
}
