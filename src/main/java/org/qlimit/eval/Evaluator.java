package org.qlimit.eval;

import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * Classification metrics: logits and top-1 accuracy of a model (FP or quantized, chosen by the
 * {@link ForwardContext}) over a labelled image set, in fixed batches in file order.
 */
public final class Evaluator {
  private Evaluator() {}

  /** Called after each batch with the number of images done so far. */
  @FunctionalInterface
  public interface Progress {
    void done(int images, int total);

    Progress NONE = (a, b) -> {};
  }

  /** Result of an accuracy evaluation. */
  public record Accuracy(int correct, int total) {
    public double percent() {
      return total == 0 ? 0 : 100.0 * correct / total;
    }
  }

  /** A normalised batch of images [from, to) as an (n, C, H, W) tensor. */
  public static Tensor batch(LabeledImages set, Normalization norm, int from, int to) {
    int[] idx = new int[to - from];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = from + i;
    }
    return batch(set, norm, idx);
  }

  /** The normalised images at {@code indices}, in that order. */
  public static Tensor batch(LabeledImages set, Normalization norm, int[] indices) {
    Tensor t = Tensor.zeros(indices.length, set.channels(), set.height(), set.width());
    set.fillBatch(indices, t.data(), norm);
    return t;
  }

  /** Logits (n, classes) for images [from, to). */
  public static Tensor logits(Model model, ForwardContext ctx, Kernels k, LabeledImages set,
      Normalization norm, int from, int to) {
    Var y = model.forward(Graph.inference(k), Var.constant(batch(set, norm, from, to)), ctx);
    return y.value();
  }

  /** Index of the largest logit in each row (the first one on ties). */
  public static int[] argmax(Tensor logits) {
    int n = logits.dim(0);
    int c = logits.dim(1);
    float[] d = logits.contiguous().data();
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int j = 1; j < c; j++) {
        if (d[i * c + j] > d[i * c + best]) {
          best = j;
        }
      }
      out[i] = best;
    }
    return out;
  }

  /**
   * Throws when a logit is NaN or ±Inf (an overflow inside the network): its argmax would be a
   * silently wrong prediction. Reads only.
   *
   * @param logits (n, classes) for images from, from+1, ... of {@code set}. Not modified.
   */
  static void requireFinite(Tensor logits, Model model, LabeledImages set, int from) {
    float[] d = logits.contiguous().data();
    int bad = Check.firstNonFinite(d);
    Check.state(bad < 0, "%s: output %d for image %d of %s is %s (the values overflowed inside "
        + "the network)", model.arch(), bad < 0 ? 0 : bad % logits.dim(1),
        bad < 0 ? 0 : from + bad / logits.dim(1), set.name(),
        bad < 0 ? "" : Check.describe(d[bad]));
  }

  /** Top-1 accuracy over the first {@code limit} images (all when limit ≤ 0). */
  public static Accuracy top1(Model model, ForwardContext ctx, Kernels k, LabeledImages set,
      Normalization norm, int batchSize, int limit, Progress progress) {
    Check.arg(batchSize > 0, "batch size must be positive, got %d", batchSize);
    Check.arg(set.channels() == model.inputShape()[0] && set.height() == model.inputShape()[1]
            && set.width() == model.inputShape()[2],
        "dataset %s has images %dx%dx%d but model %s expects %dx%dx%d", set.name(),
        set.channels(), set.height(), set.width(), model.arch(), model.inputShape()[0],
        model.inputShape()[1], model.inputShape()[2]);
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    int correct = 0;
    for (int from = 0; from < total; from += batchSize) {
      int to = Math.min(total, from + batchSize);
      Tensor y = logits(model, ctx, k, set, norm, from, to);
      requireFinite(y, model, set, from);
      int[] pred = argmax(y);
      for (int i = 0; i < pred.length; i++) {
        if (pred[i] == set.labels()[from + i]) {
          correct++;
        }
      }
      progress.done(to, total);
    }
    return new Accuracy(correct, total);
  }
}
