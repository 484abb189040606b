package org.qlimit.train;

import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;

/**
 * The recipe of a training run from scratch, validated on construction.
 *
 * @param arch architecture name ({@code org.qlimit.model.Architectures})
 * @param epochs passes over the (shuffled) training set, ≥ 1
 * @param batch minibatch size, ≥ 2 (BatchNorm needs two samples for a batch variance)
 * @param lr initial learning rate, decayed by {@link Trainer#learningRate} (cosine per iteration)
 * @param momentum SGD momentum μ in [0, 1)
 * @param nesterov Nesterov momentum
 * @param weightDecay L2 coefficient applied to convolution and linear weights only
 * @param seed run seed; every random stream derives from it ({@code org.qlimit.util.Streams})
 * @param trainLimit use only the first N training images in file order (0 = all)
 * @param testLimit evaluate on the first N test images after each epoch (0 = all, -1 = never)
 * @param augment pad-and-crop plus horizontal-flip augmentation
 * @param numerics kernels' vector width and thread count (never changes a result)
 */
public record TrainConfig(String arch, int epochs, int batch, float lr, float momentum,
    boolean nesterov, float weightDecay, long seed, int trainLimit, int testLimit,
    boolean augment, NumericsConfig numerics) {

  public TrainConfig {
    Check.arg(arch != null && !arch.isBlank(), "--arch is required");
    Check.arg(epochs >= 1, "--epochs must be at least 1, got %d", epochs);
    Check.arg(batch >= 2, "--batch must be at least 2 (BatchNorm batch statistics), got %d",
        batch);
    Check.arg(Float.isFinite(lr) && lr > 0, "--lr must be a positive number, got %s", lr);
    Check.arg(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1), got %s", momentum);
    Check.arg(!nesterov || momentum > 0, "--nesterov needs --momentum > 0");
    Check.arg(Float.isFinite(weightDecay) && weightDecay >= 0,
        "--weight-decay must be >= 0, got %s", weightDecay);
    Check.arg(trainLimit >= 0, "--train-limit must be >= 0 (0 = all), got %d", trainLimit);
    Check.arg(testLimit >= -1, "--test-limit must be >= -1, got %d", testLimit);
    Check.arg(numerics != null, "numerics config is required");
  }

  /** The recipe of the reference models: SGD, Nesterov 0.9, lr 0.1, wd 5e-4, batch 128. */
  public static TrainConfig standard(String arch, int epochs, long seed, NumericsConfig numerics) {
    return new TrainConfig(arch, epochs, 128, 0.1f, 0.9f, true, 5e-4f, seed, 0, 0, true,
        numerics);
  }

  public TrainConfig withLimits(int train, int test) {
    return new TrainConfig(arch, epochs, batch, lr, momentum, nesterov, weightDecay, seed, train,
        test, augment, numerics);
  }

  public TrainConfig withThreads(int threads) {
    return new TrainConfig(arch, epochs, batch, lr, momentum, nesterov, weightDecay, seed,
        trainLimit, testLimit, augment, numerics.withThreads(threads));
  }

  /** A one-line description of the recipe (stored in checkpoint metadata). */
  public String recipe() {
    return String.format(java.util.Locale.ROOT,
        "SGD momentum %s%s, lr %s cosine to 0 per iteration, weight decay %s on conv/linear "
            + "weights, batch %d (remainder dropped), %d epoch(s), %s, seed %d, train images %s",
        momentum, nesterov ? " nesterov" : "", lr, weightDecay, batch, epochs,
        augment ? "pad-and-crop + horizontal flip" : "no augmentation", seed,
        trainLimit == 0 ? "all" : "first " + trainLimit);
  }
}
