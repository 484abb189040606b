package org.qlimit.train;

import java.util.Locale;
import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;

/**
 * The recipe of a BERT-layout encoder trained from scratch on a sentence-classification set,
 * validated on construction.
 *
 * @param hidden hidden size H
 * @param layers transformer layers
 * @param heads attention heads (divide H)
 * @param intermediate feed-forward width
 * @param maxLength max_position_embeddings: the longest sentence in tokens, [CLS] and [SEP]
 *     included (a longer one is an error)
 * @param minCount a training word enters the vocabulary when seen at least this often
 * @param epochs passes over the shuffled training set
 * @param batch minibatch size (the last partial batch of an epoch is kept)
 * @param lr peak learning rate of AdamW
 * @param warmup fraction of all steps of linear warm-up, in [0, 1)
 * @param weightDecay AdamW's decoupled weight decay on linear weights (not on biases, LayerNorm or
 *     embeddings)
 * @param seed run seed
 * @param trainLimit use only the first N training sentences (0 = all)
 * @param evalLimit evaluate on the first N sentences of the evaluation split (0 = all, -1 = never)
 * @param numerics kernels' vector width and thread count (never changes a result)
 */
public record TextTrainConfig(int hidden, int layers, int heads, int intermediate, int maxLength,
    int minCount, int epochs, int batch, float lr, float warmup, float weightDecay, long seed,
    int trainLimit, int evalLimit, NumericsConfig numerics) {

  public TextTrainConfig {
    Check.arg(hidden > 0 && layers > 0 && heads > 0 && intermediate > 0,
        "model sizes must be positive (hidden %d, layers %d, heads %d, intermediate %d)", hidden,
        layers, heads, intermediate);
    Check.arg(hidden % heads == 0, "--hidden %d is not divisible by --heads %d", hidden, heads);
    Check.arg(maxLength >= 3, "--max-length must be at least 3, got %d", maxLength);
    Check.arg(minCount >= 1, "--min-count must be at least 1, got %d", minCount);
    Check.arg(epochs >= 1, "--epochs must be at least 1, got %d", epochs);
    Check.arg(batch >= 1, "--batch must be at least 1, got %d", batch);
    Check.arg(Float.isFinite(lr) && lr > 0, "--lr must be a positive number, got %s", lr);
    Check.arg(warmup >= 0 && warmup < 1, "--warmup must be in [0, 1), got %s", warmup);
    Check.arg(Float.isFinite(weightDecay) && weightDecay >= 0,
        "--weight-decay must be >= 0, got %s", weightDecay);
    Check.arg(trainLimit >= 0, "--train-limit must be >= 0 (0 = all), got %d", trainLimit);
    Check.arg(evalLimit >= -1, "--test-limit must be >= -1, got %d", evalLimit);
    Check.arg(numerics != null, "numerics config is required");
  }

  /**
   * The recipe of the committed small models: H 64, 2 layers, 4 heads, feed-forward 256, 128
   * positions, words seen twice, AdamW lr 1e-3, 10% warm-up then linear decay, weight decay 0.01,
   * batch 32.
   */
  public static TextTrainConfig small(int epochs, long seed, NumericsConfig numerics) {
    return new TextTrainConfig(64, 2, 4, 256, 128, 2, epochs, 32, 1e-3f, 0.1f, 0.01f, seed, 0, 0,
        numerics);
  }

  public TextTrainConfig withLimits(int train, int eval) {
    return new TextTrainConfig(hidden, layers, heads, intermediate, maxLength, minCount, epochs,
        batch, lr, warmup, weightDecay, seed, train, eval, numerics);
  }

  public TextTrainConfig withThreads(int threads) {
    return new TextTrainConfig(hidden, layers, heads, intermediate, maxLength, minCount, epochs,
        batch, lr, warmup, weightDecay, seed, trainLimit, evalLimit, numerics.withThreads(threads));
  }

  /** A one-line description of the recipe (stored in checkpoint metadata). */
  public String recipe() {
    return String.format(Locale.ROOT,
        "BERT encoder from scratch: hidden %d, %d layers, %d heads, feed-forward %d, %d positions,"
            + " vocabulary of training words seen >= %d times plus characters; AdamW lr %s, "
            + "%s%% linear warm-up then linear decay to 0, weight decay %s on linear weights, "
            + "batch %d, %d epoch(s), no dropout, seed %d, training sentences %s",
        hidden, layers, heads, intermediate, maxLength, minCount, lr, warmup * 100, weightDecay,
        batch, epochs, seed, trainLimit == 0 ? "all" : "first " + trainLimit);
  }
}
