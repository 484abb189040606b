package org.qlimit.eval;

import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * Accuracy of a sequence classifier (a BERT-layout model) on tokenized sentences, in file order,
 * in batches padded to their longest sentence. Padding is masked and every kernel accumulates in
 * a fixed order, so a sentence's logits have the same bits whatever batch it is in
 * (BertTrainingTest).
 */
public final class TextEvaluator {
  private TextEvaluator() {}

  /** Accuracy over the first {@code limit} sentences (all when limit ≤ 0). */
  public static Evaluator.Accuracy accuracy(Model model, ForwardContext ctx, Kernels k,
      TokenizedSentences set, int batchSize, int limit, Evaluator.Progress progress) {
    Check.arg(batchSize > 0, "batch size must be positive, got %d", batchSize);
    Check.arg(set.numClasses() == model.numClasses(),
        "dataset %s has %d classes but model %s has %d outputs", set.name(), set.numClasses(),
        model.arch(), model.numClasses());
    int total = limit <= 0 ? set.n() : Math.min(limit, set.n());
    int correct = 0;
    for (int from = 0; from < total; from += batchSize) {
      int to = Math.min(total, from + batchSize);
      Tensor y = model.forward(Graph.inference(k), Var.constant(set.batch(from, to)), ctx).value();
      float[] d = y.data();
      int bad = Check.firstNonFinite(d);
      Check.state(bad < 0, "%s: output %d for sentence %d of %s is %s", model.arch(),
          bad < 0 ? 0 : bad % y.dim(1), bad < 0 ? 0 : from + bad / y.dim(1) + 1, set.name(),
          bad < 0 ? "" : Check.describe(d[bad]));
      int[] pred = Evaluator.argmax(y);
      for (int i = 0; i < pred.length; i++) {
        if (pred[i] == set.labels()[from + i]) {
          correct++;
        }
      }
      progress.done(to, total);
    }
    return new Evaluator.Accuracy(correct, total);
  }
}
