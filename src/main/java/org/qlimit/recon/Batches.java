package org.qlimit.recon;

import java.util.function.Function;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/** Cached activations over the calibration set: batched evaluation and row gathering. */
final class Batches {
  private Batches() {}

  /** Evaluation batch size for cache passes (any value gives the same bits: rows are independent). */
  static final int EVAL_BATCH = 64;

  /**
   * Applies {@code f} to the rows of {@code in} in batches of {@link #EVAL_BATCH} and writes the
   * outputs, row for row, to a new cache from {@code store}. Any batch size gives the same bits:
   * rows are independent.
   */
  static ActivationCache map(CacheStore store, ActivationCache in, Function<Var, Var> f) {
    int n = in.rows();
    ActivationCache out = null;
    try {
      for (int from = 0; from < n; from += EVAL_BATCH) {
        int to = Math.min(n, from + EVAL_BATCH);
        Tensor y = f.apply(Var.constant(in.rows(from, to))).value();
        if (out == null) {
          int[] s = y.shape();
          out = store.allocate(n, java.util.Arrays.copyOfRange(s, 1, s.length));
        }
        out.write(from, y);
      }
    } catch (RuntimeException | Error e) {
      if (out != null) {
        out.close();
      }
      throw e;
    }
    Check.state(out != null, "empty calibration set");
    return out;
  }

  /** The first {@code n} rows (or all). */
  static Tensor head(Tensor src, int n) {
    return src.slice(0, Math.min(n, src.dim(0))).contiguous();
  }

  static Graph inference(Kernels k) {
    return Graph.inference(k);
  }
}
