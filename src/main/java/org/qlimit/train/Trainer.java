package org.qlimit.train;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.ClassCoverage;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.model.BasicBlock;
import org.qlimit.model.Bottleneck;
import org.qlimit.model.ConvBn;
import org.qlimit.model.ConvUnit;
import org.qlimit.model.Head;
import org.qlimit.model.InvertedResidual;
import org.qlimit.model.PooledConvUnit;
import org.qlimit.model.RegNetBlock;
import org.qlimit.nn.BatchNorm;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.nn.Unit;
import org.qlimit.optim.Schedules;
import org.qlimit.optim.Sgd;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.util.Streams;

/**
 * Trains an architecture from scratch with minibatch SGD on a labelled image set.
 *
 * <p>Recipe ({@link TrainConfig}):
 * <ul>
 *   <li>Weights: {@code Architectures.get(arch).fresh(WEIGHT_INIT stream)}, built unfolded
 *       ({@code build(sd, false)}), so every convolution keeps its BatchNorm. The model's
 *       parameters and BatchNorm running buffers are the very {@link Tensor}s of the state dict
 *       (checked at construction), so the optimiser's in-place updates and BatchNorm's running
 *       averages land in {@link #stateDict()} under their PyTorch names.</li>
 *   <li>Forward in training mode ({@link ForwardContext#TRAIN}: batch statistics, running
 *       averages updated with momentum 0.1), mean softmax cross-entropy, backward, then
 *       {@link Sgd} (PyTorch formulation, Nesterov optional).</li>
 *   <li>Weight decay applies to convolution and linear weights only; BatchNorm γ/β and biases are
 *       not decayed (the "no bias decay" practice of Goyal et al. 2017 and He et al., "Bag of
 *       Tricks", CVPR 2019: decaying γ/β only shrinks the normalised scale).</li>
 *   <li>Learning rate: cosine annealing to 0 <b>per iteration</b>, as PyTorch's
 *       {@code CosineAnnealingLR(T_max = epochs·steps)} stepped after every optimiser step:
 *       iteration t (0-based, over the whole run) uses {@code Schedules.cosine(lr, t, T)}.</li>
 *   <li>Epoch e: the first {@code trainLimit} images (file order) are shuffled by Fisher–Yates
 *       from {@code TRAIN_SHUFFLE.random(seed, e)}; batches are consecutive slices of that order;
 *       the last {@code n mod batch} images of the order are dropped (drop_last: a batch of one
 *       has no batch variance), a different subset every epoch. Augmentation
 *       ({@link Augment#padCropFlip}) draws from {@code AUGMENTATION.random(seed, e)}.</li>
 *   <li>After each epoch: test top-1 of the model built with BatchNorm folded from the current
 *       state dict (identical to eval-mode BatchNorm up to rounding).</li>
 * </ul>
 * Every random number comes from a stream of the run seed and every kernel accumulates in a fixed
 * order, so a run's bits depend only on the config, not on the thread count or vector width.
 */
public final class Trainer {

  /** What happened in one epoch. Train loss and top-1 are over the epoch's (augmented) batches. */
  public record EpochRecord(int epoch, int steps, double trainLoss, double trainTop1,
      double testTop1, float lastLr, double seconds) {}

  /** The trained state dict (PyTorch names, BatchNorm buffers included) and the history. */
  public record Result(StateDict state, List<EpochRecord> history) {
    /** Test top-1 after the last epoch (NaN when not evaluated). */
    public double finalTestTop1() {
      return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testTop1();
    }
  }

  /** Progress callbacks (all optional). */
  public interface Listener {
    default void epochStart(int epoch, int epochs, int steps) {}

    /** After step {@code step} (1-based) of {@code steps}, with that step's loss. */
    default void step(int epoch, int step, int steps, double loss, float lr) {}

    default void evaluating(int done, int total) {}

    default void epochEnd(EpochRecord r) {}

    Listener NONE = new Listener() {};
  }

  /** Loss and number of correct argmax predictions of one training step. */
  public record StepResult(double loss, int correct) {}

  private final TrainConfig cfg;
  private final Architectures.Spec spec;
  private final StateDict sd;
  private final Model model;
  private final Kernels kernels;
  private final Map<String, Var> params;
  private final Sgd sgd;

  /** Fresh weights for {@code cfg.arch()} from the WEIGHT_INIT stream of {@code cfg.seed()}. */
  public Trainer(TrainConfig cfg) {
    this.cfg = cfg;
    this.spec = Architectures.get(cfg.arch());
    this.sd = spec.fresh(Streams.WEIGHT_INIT.random(cfg.seed()));
    this.model = spec.build(sd, false);
    this.kernels = Kernels.of(cfg.numerics());
    this.params = trainableParameters(model, sd);
    List<Var> list = new ArrayList<>(params.values());
    List<Boolean> decay = new ArrayList<>();
    Map<Var, Boolean> layerWeights = new IdentityHashMap<>();
    for (Layer l : model.layers()) {
      layerWeights.put(l.weight(), Boolean.TRUE);
    }
    for (Var v : list) {
      decay.add(layerWeights.containsKey(v));
    }
    this.sgd = new Sgd(list, decay, cfg.momentum(), cfg.weightDecay(), cfg.nesterov());
  }

  /** The state dict being trained (live: it changes with every step). */
  public StateDict stateDict() {
    return sd;
  }

  /** The trainable model (BatchNorm unfolded). */
  public Model model() {
    return model;
  }

  /** Trainable parameters by PyTorch name, in state-dict order. */
  public Map<String, Var> parameters() {
    return java.util.Collections.unmodifiableMap(params);
  }

  /** The learning rate of iteration t (0-based) of a run of {@code total} iterations. */
  public static float learningRate(TrainConfig cfg, int t, int total) {
    return (float) Schedules.cosine(cfg.lr(), t, total);
  }

  /**
   * One SGD step on the images {@code indices} of {@code set}: augmented from {@code augmentation}
   * when it is not null (the generator is advanced), else plain normalised images.
   */
  public StepResult step(LabeledImages set, Normalization norm, int[] indices, float lr,
      SplittableRandom augmentation) {
    requireMatches(set);
    Tensor x = Tensor.zeros(indices.length, set.channels(), set.height(), set.width());
    if (augmentation != null) {
      Augment.padCropFlip(x.data(), set, indices, norm, Augment.defaultPad(set.height()),
          augmentation);
    } else {
      set.fillBatch(indices, x.data(), norm);
    }
    return crossEntropyStep(model, kernels, ForwardContext.TRAIN, x, set.labels(), indices,
        () -> sgd.step(lr));
  }

  /**
   * One training step shared by the image and the sentence trainers: forward {@code x} (the
   * batch of the examples {@code indices}) through {@code model} under {@code ctx}, mean
   * cross-entropy against {@code allLabels[indices[i]]}, backward, then {@code optimizerStep}.
   *
   * @return the batch's mean loss and how many of its argmax predictions were right
   */
  public static StepResult crossEntropyStep(Model model, Kernels kernels, ForwardContext ctx,
      Tensor x, int[] allLabels, int[] indices, Runnable optimizerStep) {
    int[] labels = new int[indices.length];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = allLabels[indices[i]];
    }
    Graph g = Graph.training(kernels);
    Var logits = model.forward(g, Var.constant(x), ctx);
    Var loss = Functions.crossEntropy(g, logits, labels);
    int[] pred = Evaluator.argmax(logits.value());
    int correct = 0;
    for (int i = 0; i < pred.length; i++) {
      correct += pred[i] == labels[i] ? 1 : 0;
    }
    g.backward(loss);
    optimizerStep.run();
    return new StepResult(loss.value().item(), correct);
  }

  /**
   * Runs the whole recipe on {@code train}, evaluating on {@code test} after every epoch (unless
   * {@code cfg.testLimit() < 0}). Returns the state dict (the trained tensors) and the history.
   */
  public Result fit(LabeledImages train, LabeledImages test, Normalization norm,
      Listener listener) {
    requireMatches(train);
    int n = cfg.trainLimit() == 0 ? train.n() : cfg.trainLimit();
    Check.arg(n <= train.n(), "--train-limit %d exceeds the %d training images of %s",
        cfg.trainLimit(), train.n(), train.name());
    Check.arg(n >= cfg.batch(), "%d training images are fewer than one batch of %d", n,
        cfg.batch());
    int steps = n / cfg.batch();
    int total = cfg.epochs() * steps;
    List<EpochRecord> history = new ArrayList<>();
    int[] idx = new int[cfg.batch()];
    for (int e = 0; e < cfg.epochs(); e++) {
      long t0 = System.nanoTime();
      listener.epochStart(e, cfg.epochs(), steps);
      int[] order = shuffled(n, Streams.TRAIN_SHUFFLE.random(cfg.seed(), e));
      SplittableRandom aug = cfg.augment() ? Streams.AUGMENTATION.random(cfg.seed(), e) : null;
      double lossSum = 0;
      long correct = 0;
      float lr = 0;
      for (int s = 0; s < steps; s++) {
        System.arraycopy(order, s * cfg.batch(), idx, 0, cfg.batch());
        lr = learningRate(cfg, e * steps + s, total);
        StepResult r = step(train, norm, idx, lr, aug);
        Check.state(Double.isFinite(r.loss()), "training loss is %s at epoch %d, step %d of %d "
            + "(learning rate %s); lower --lr", Check.describe(r.loss()), e + 1, s + 1, steps, lr);
        lossSum += r.loss();
        correct += r.correct();
        listener.step(e, s + 1, steps, r.loss(), lr);
      }
      double testTop1 = Double.NaN;
      if (cfg.testLimit() >= 0 && test != null) {
        testTop1 = evaluate(test, norm, cfg.testLimit(), listener);
      }
      EpochRecord rec = new EpochRecord(e + 1, steps, lossSum / steps,
          100.0 * correct / ((long) steps * cfg.batch()), testTop1, lr,
          (System.nanoTime() - t0) / 1e9);
      history.add(rec);
      listener.epochEnd(rec);
    }
    return new Result(sd, List.copyOf(history));
  }

  /** Top-1 (%) of the current weights, BatchNorm folded, on the first {@code limit} images. */
  public double evaluate(LabeledImages test, Normalization norm, int limit, Listener listener) {
    Model folded = spec.build(sd, true);
    return Evaluator.top1(folded, ForwardContext.FP, kernels, test, norm, 200, limit,
        listener::evaluating).percent();
  }

  /** A Fisher–Yates permutation of 0..n-1 (j drawn from [0, i] for i = n−1 down to 1). */
  static int[] shuffled(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private void requireMatches(LabeledImages set) {
    int[] s = model.inputShape();
    Check.arg(set.channels() == s[0] && set.height() == s[1] && set.width() == s[2],
        "architecture %s expects %dx%dx%d images, %s has %dx%dx%d", cfg.arch(), s[0], s[1], s[2],
        set.name(), set.channels(), set.height(), set.width());
    ClassCoverage.check(model, set, 0);
  }

  /**
   * The model's trainable Vars (layer weights and biases, BatchNorm γ and β) keyed by their
   * state-dict names, in state-dict order. Fails unless each Var, and each BatchNorm running
   * buffer, holds the state dict's own Tensor object, which is what makes the state dict the
   * trained checkpoint.
   */
  static Map<String, Var> trainableParameters(Model model, StateDict sd) {
    Map<String, Var> byName = new LinkedHashMap<>();
    Map<String, Tensor> tensors = sd.asMap();
    for (Var v : model.parameters()) {
      byName.put(v.name(), v);
    }
    for (BatchNorm bn : batchNorms(model)) {
      byName.put(bn.gamma().name(), bn.gamma());
      byName.put(bn.beta().name(), bn.beta());
      requireShared(tensors, bn.name() + ".running_mean", bn.runningMean());
      requireShared(tensors, bn.name() + ".running_var", bn.runningVar());
    }
    Map<String, Var> ordered = new LinkedHashMap<>();
    for (String name : sd.names()) {
      Var v = byName.remove(name);
      if (v != null) {
        Check.state(v.requiresGrad(), "parameter %s does not require a gradient", name);
        requireShared(tensors, name, v.value());
        ordered.put(name, v);
      }
    }
    Check.state(byName.isEmpty(), "model parameters without a state-dict entry: %s",
        byName.keySet());
    for (String name : sd.names()) {
      boolean buffer = name.endsWith(".running_mean") || name.endsWith(".running_var")
          || name.endsWith(".num_batches_tracked");
      Check.state(buffer || ordered.containsKey(name),
          "state-dict tensor %s is not a parameter of the trainable model", name);
    }
    return ordered;
  }

  private static void requireShared(Map<String, Tensor> tensors, String name, Tensor t) {
    Check.state(tensors.get(name) == t,
        "%s: the model does not use the state dict's tensor, so training would not update it",
        name);
  }

  /** Every BatchNorm of the model's units, in execution order. */
  static List<BatchNorm> batchNorms(Model model) {
    List<BatchNorm> out = new ArrayList<>();
    for (Unit u : model.units()) {
      List<ConvBn> convs;
      if (u instanceof ConvUnit c) {
        convs = List.of(c.conv());
      } else if (u instanceof PooledConvUnit p) {
        convs = List.of(p.conv());
      } else if (u instanceof BasicBlock b) {
        convs = nonNull(b.conv1(), b.conv2(), b.downsample());
      } else if (u instanceof Bottleneck b) {
        convs = nonNull(b.conv1(), b.conv2(), b.conv3(), b.downsample());
      } else if (u instanceof InvertedResidual r) {
        convs = nonNull(r.expand(), r.depthwise(), r.project());
      } else if (u instanceof RegNetBlock r) {
        convs = nonNull(r.a(), r.b(), r.c(), r.proj());
      } else if (u instanceof Head) {
        convs = List.of();
      } else {
        throw new IllegalArgumentException(
            "training: unit " + u.name() + " of kind " + u.kind() + " is not supported");
      }
      for (ConvBn cb : convs) {
        if (cb.bn() != null) {
          out.add(cb.bn());
        }
      }
    }
    return out;
  }

  private static List<ConvBn> nonNull(ConvBn... cs) {
    List<ConvBn> out = new ArrayList<>();
    for (ConvBn c : cs) {
      if (c != null) {
        out.add(c);
      }
    }
    return out;
  }
}
