package org.qlimit.recon;

import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The per-element factors a = |g| + 1 of BRECQ's diagonal-Fisher reconstruction loss
 * (ALGORITHMS.md §4; reference {@code quant/data_utils.py}, {@code save_grad_data} l.40–71 and
 * {@code GetLayerGrad} l.153–192), cached over the calibration set for one unit:
 *
 * <pre>
 *   g_n = ∂/∂ŷ_n [ (1/B) Σ_{n' in batch} KL( softmax(z_fp[n']) ‖ softmax(z_q[n']) ) ]
 *       = (1/B) ∂ KL_n / ∂ŷ_n,          a_n = |g_n| + 1 (element-wise)
 * </pre>
 * ŷ_n is the unit's output for image n from its quantized input with the network quantized up
 * to and including the unit (the unit's current weights: nearest rounding before its
 * reconstruction), z_q the logits of the FP layers after the unit run on ŷ_n, z_fp the FP
 * network's logits, B the minibatch size (32): the reference's {@code kl_div(log_softmax(z_q),
 * softmax(z_fp), reduction='batchmean')} over batches of B images. The reference drops the last
 * batch when the calibration set is not a multiple of B; here it is kept, with the same 1/B
 * scale, so every image has its factor. Rows are taken in batches of B in calibration order, as
 * in the reference.
 */
final class FisherWeights {
  private FisherWeights() {}

  /**
   * The factors for {@code unit}, the units [0, end] of {@code model} (unit index {@code end}
   * being the unit's last).
   *
   * @param in the unit's cached quantized inputs (prologue applied), one row per image
   * @param ctx the forward context of the unit's phase (its quantized weights and activations)
   * @param fpLogits the FP network's logits (rows, classes) for the same images
   * @param batch B
   * @return a new cache of the unit's output shape; the caller closes it
   */
  static ActivationCache compute(Kernels k, CacheStore store, Model model, Unit unit, int end,
      ActivationCache in, ForwardContext ctx, Tensor fpLogits, int batch) {
    List<Unit> units = model.units();
    Check.arg(end >= 0 && end < units.size(), "unit index %d outside the model", end);
    Check.arg(fpLogits.dim(0) == in.rows(), "FP logits for %d images, inputs for %d",
        fpLogits.dim(0), in.rows());
    ActivationCache out = null;
    try {
      for (int from = 0; from < in.rows(); from += batch) {
        int to = Math.min(in.rows(), from + batch);
        Tensor y = unit.forward(Graph.inference(k), Var.constant(in.rows(from, to)), ctx).value()
            .contiguous();
        Graph g = Graph.training(k);
        Var yq = Var.param("unit output", y);
        Var z = model.forward(g, yq, ForwardContext.FP, end + 1, units.size());
        Var kl = Functions.klDivergence(g, z, fpLogits.slice(from, to).contiguous());
        g.backward(kl);
        float[] gr = yq.grad().contiguous().data();
        int b = to - from;
        // klDivergence averages over the b rows given; the reference's 1/B for every image
        float scale = b == batch ? 1f : (float) b / batch;
        Tensor a = Tensor.zeros(y.shape());
        float[] ad = a.data();
        for (int i = 0; i < gr.length; i++) {
          ad[i] = Math.abs(gr[i] * scale) + 1f;
        }
        if (out == null) {
          int[] s = y.shape();
          out = store.allocate(in.rows(), java.util.Arrays.copyOfRange(s, 1, s.length));
        }
        out.write(from, a);
      }
    } catch (RuntimeException | Error e) {
      if (out != null) {
        out.close();
      }
      throw e;
    }
    return out;
  }

  /** The FP network's logits (rows, classes) for the images {@code calib}, in batches. */
  static Tensor fpLogits(Kernels k, Model model, ActivationCache calib) {
    Tensor out = null;
    for (int from = 0; from < calib.rows(); from += Batches.EVAL_BATCH) {
      int to = Math.min(calib.rows(), from + Batches.EVAL_BATCH);
      Tensor z = model.forward(Graph.inference(k), Var.constant(calib.rows(from, to)),
          ForwardContext.FP).value().contiguous();
      if (out == null) {
        out = Tensor.zeros(calib.rows(), z.dim(1));
      }
      System.arraycopy(z.data(), 0, out.data(), from * z.dim(1), z.numel());
    }
    return out;
  }
}
