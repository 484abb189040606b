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
   * Applies {@code f} to rows [from, to) of {@code in} in batches of {@link #EVAL_BATCH} and
   * concatenates the outputs along dimension 0.
   */
  static Tensor map(Kernels k, Tensor in, Function<Var, Var> f) {
    int n = in.dim(0);
    Tensor out = null;
    int rowSize = 0;
    for (int from = 0; from < n; from += EVAL_BATCH) {
      int to = Math.min(n, from + EVAL_BATCH);
      Tensor y = f.apply(Var.constant(in.slice(from, to).contiguous())).value();
      if (out == null) {
        int[] s = y.shape();
        s[0] = n;
        out = Tensor.zeros(s);
        rowSize = y.numel() / (to - from);
      }
      System.arraycopy(y.data(), 0, out.data(), from * rowSize, (to - from) * rowSize);
    }
    Check.state(out != null, "empty calibration set");
    return out;
  }

  /** Rows {@code idx} of {@code src}, in that order, as a new dense tensor. */
  static Tensor gather(Tensor src, int[] idx) {
    int[] s = src.shape();
    int row = src.numel() / s[0];
    s[0] = idx.length;
    Tensor out = Tensor.zeros(s);
    float[] sd = src.data();
    float[] od = out.data();
    for (int i = 0; i < idx.length; i++) {
      System.arraycopy(sd, idx[i] * row, od, i * row, row);
    }
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
