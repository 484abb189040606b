package org.qlimit.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.qlimit.data.WordPieceTokenizer;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * The supported architectures by command-line name. Each entry builds a {@link Model} from a
 * PyTorch-named state dict (BatchNorm folded for quantization and evaluation, or kept for
 * training) and can create freshly initialised weights.
 *
 * <ul>
 *   <li>CIFAR ResNets ({@link ResNets}): resnet20-fmnist, resnet20/32/44/56.</li>
 *   <li>torchvision ImageNet models, torchvision {@code state_dict} names, 3×224×224, 1000
 *       classes: resnet18, resnet50 ({@link TorchvisionResNets}), mobilenetv2
 *       ({@link MobileNetV2s}).</li>
 *   <li>Small networks trained from scratch, torchvision-style names, 10 classes, suffix
 *       {@code -fmnist} (1×28×28) or {@code -cifar10} (3×32×32): mobilenetv2-small,
 *       regnetx-small ({@link RegNets}), mnasnet-small ({@link MnasNets}).</li>
 * </ul>
 *
 * <p>Activation sites inside a block are named after the convolution whose activated output they
 * quantize (e.g. {@code layer1.0.conv1}, {@code features.2.conv.1.0}); a block's output site is
 * the block's own name; a stem or last-conv layer unit's site is the unit name.
 */
public final class Architectures {
  private Architectures() {}

  /** One architecture. */
  public interface Spec {
    String name();

    /** What it is and where its weights come from. */
    String description();

    /** The dataset it is meant for (fashion-mnist, cifar10, imagenet). */
    String dataset();

    Model build(StateDict sd, boolean foldBatchNorm);

    StateDict fresh(SplittableRandom rng);

    /**
     * The AdaRound rounding-regulariser weight λ used for this family when none is given: the
     * references' per-model settings (QDrop's configurations: 0.1 for MobileNetV2, 0.2 for
     * MNASNet, 0.01 for ResNets and RegNets).
     */
    default double roundLambda() {
      return DEFAULT_ROUND_LAMBDA;
    }
  }

  /** λ of ALGORITHMS.md §3 for every family without its own setting. */
  public static final double DEFAULT_ROUND_LAMBDA = 0.01;

  private record ResNetSpec(String name, String description, String dataset, int depth,
      int inChannels, int size, ResNets.Shortcut shortcut) implements Spec {
    @Override
    public Model build(StateDict sd, boolean fold) {
      return ResNets.load(name, sd, depth, inChannels, size, 10, shortcut, fold);
    }

    @Override
    public StateDict fresh(SplittableRandom rng) {
      return ResNets.freshStateDict(depth, inChannels, 10, shortcut, rng);
    }
  }

  /** Builds a model from a state dict, BatchNorm folded or not. */
  @FunctionalInterface
  private interface Loader {
    Model build(StateDict sd, boolean fold);
  }

  /** An architecture given by a loader and a fresh-weights function with the same names. */
  private record DefinedSpec(String name, String description, String dataset, double roundLambda,
      Loader loader, Function<SplittableRandom, StateDict> init) implements Spec {
    @Override
    public Model build(StateDict sd, boolean fold) {
      return loader.build(sd, fold);
    }

    @Override
    public StateDict fresh(SplittableRandom rng) {
      return init.apply(rng);
    }
  }

  /** λ for MobileNetV2 (QDrop exp/w2a4/mbv2, BRECQ's MobileNetV2 runs). */
  public static final double MOBILENET_ROUND_LAMBDA = 0.1;

  /** λ for MNASNet (QDrop exp/w2a4/mnasnet). */
  public static final double MNASNET_ROUND_LAMBDA = 0.2;

  private static final Map<String, Spec> SPECS = new LinkedHashMap<>();

  static {
    register(new ResNetSpec("resnet20-fmnist",
        "ResNet-20, 1x28x28 input, 1x1-conv (option B) shortcuts; the Fashion-MNIST reference model",
        "fashion-mnist", 20, 1, 28, ResNets.Shortcut.OPTION_B));
    for (int d : new int[] {20, 32, 44, 56}) {
      register(new ResNetSpec("resnet" + d,
          "ResNet-" + d + " for CIFAR-10, 3x32x32 input, parameter-free (option A) shortcuts",
          "cifar10", d, 3, 32, ResNets.Shortcut.OPTION_A));
    }
    registerTorchvision();
    registerSmall("fmnist", "fashion-mnist", 1, 28);
    registerSmall("cifar10", "cifar10", 3, 32);
    registerBert();
  }

  /**
   * BERT for sequence classification in the Hugging Face layout ({@link Berts}): the
   * hyperparameters come from the {@code config.json} beside the checkpoint, the input length is
   * its max_position_embeddings. Fresh weights need a vocabulary: {@code qlimit train --data sst2}
   * (or trec) builds one and trains through {@code train.TextTrainer}.
   */
  private static void registerBert() {
    register(new DefinedSpec("bert", "BERT for sequence classification (Hugging Face "
        + "BertForSequenceClassification names; config.json and vocab.txt beside the checkpoint)",
        "sst2, trec", DEFAULT_ROUND_LAMBDA, (sd, fold) -> {
          BertConfig cfg = bertConfigBeside(sd);
          return Berts.load("bert", sd, cfg, cfg.maxPositions(), !fold);
        }, rng -> {
          throw new IllegalArgumentException("bert: fresh weights need a vocabulary; train with "
              + "--data sst2 or --data trec, which builds one from the training split");
        }));
  }

  /** A BERT checkpoint with its config and tokenizer. */
  public record BertBundle(Model model, BertConfig config, WordPieceTokenizer tokenizer) {}

  /**
   * Loads a BERT checkpoint with the {@code config.json} and {@code vocab.txt} beside it.
   *
   * @throws IllegalArgumentException (one line) when a file is missing, the config disagrees with
   *     the weights, or the vocabulary size differs from the word embedding's rows
   */
  public static BertBundle loadBert(Path checkpoint) throws IOException {
    Model m = load("bert", checkpoint);
    StateDict sd = new StateDict(checkpoint.toString());
    BertConfig cfg = bertConfigBeside(sd);
    Path vocab = checkpoint.toAbsolutePath().resolveSibling("vocab.txt");
    WordPieceTokenizer tok;
    try {
      tok = WordPieceTokenizer.read(vocab);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException(vocab + ": no such file (a BERT checkpoint needs its "
          + "vocab.txt beside it)");
    }
    if (tok.vocabSize() != cfg.vocabSize()) {
      throw new IllegalArgumentException(vocab + ": " + tok.vocabSize() + " tokens, but the word "
          + "embedding of " + checkpoint.getFileName() + " has " + cfg.vocabSize() + " rows");
    }
    if (tok.padId() != cfg.padTokenId()) {
      throw new IllegalArgumentException(vocab + ": [PAD] has id " + tok.padId()
          + ", config.json says pad_token_id " + cfg.padTokenId());
    }
    return new BertBundle(m, cfg, tok);
  }

  /** The config.json in the folder of the checkpoint a state dict was read from. */
  public static BertConfig bertConfigBeside(StateDict sd) {
    Path cfg = Path.of(sd.source()).toAbsolutePath().resolveSibling("config.json");
    try {
      return BertConfig.read(cfg);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException(cfg + ": no such file (a BERT checkpoint needs its "
          + "config.json beside it)");
    } catch (IOException e) {
      throw new IllegalArgumentException(cfg + ": " + e.getMessage());
    }
  }

  /** torchvision ImageNet models: 3x224x224 input, 1000 classes, torchvision state_dict names. */
  private static void registerTorchvision() {
    for (TorchvisionResNets.Depth d : TorchvisionResNets.Depth.values()) {
      String name = d.name().toLowerCase();
      register(new DefinedSpec(name, "torchvision " + name
          + " (3x224x224, 1000 classes, conv-bn-relu-maxpool stem); loads torchvision weights",
          "imagenet", DEFAULT_ROUND_LAMBDA,
          (sd, fold) -> TorchvisionResNets.load(name, sd, d, 64, 224, 1000, fold),
          rng -> TorchvisionResNets.fresh(d, 64, 1000, rng)));
    }
    register(new DefinedSpec("mobilenetv2",
        "torchvision mobilenet_v2, width 1.0 (3x224x224, 1000 classes); loads torchvision weights",
        "imagenet", MOBILENET_ROUND_LAMBDA,
        (sd, fold) -> MobileNetV2s.torchvision("mobilenetv2", sd, 1.0, 224, 1000, fold),
        rng -> MobileNetV2s.freshTorchvision(1.0, 1000, rng)));
  }

  /** The small networks for 1x28x28 (Fashion-MNIST) or 3x32x32 (CIFAR-10) inputs, 10 classes. */
  private static void registerSmall(String suffix, String dataset, int c, int size) {
    String in = c + "x" + size + "x" + size;
    String mb = "mobilenetv2-small-" + suffix;
    register(new DefinedSpec(mb, "small MobileNetV2 (inverted residuals, ReLU6), " + in
        + " input, torchvision names; trained from scratch", dataset, MOBILENET_ROUND_LAMBDA,
        (sd, fold) -> MobileNetV2s.small(mb, sd, c, size, 10, fold),
        rng -> MobileNetV2s.freshSmall(c, 10, rng)));
    String rg = "regnetx-small-" + suffix;
    register(new DefinedSpec(rg, "small RegNetX (group width 8), " + in
        + " input, torchvision names; trained from scratch", dataset, DEFAULT_ROUND_LAMBDA,
        (sd, fold) -> RegNets.small(rg, sd, c, size, 10, fold),
        rng -> RegNets.freshSmall(c, 10, rng)));
    String mn = "mnasnet-small-" + suffix;
    register(new DefinedSpec(mn, "small MNASNet (3x3 and 5x5 depthwise, ReLU), " + in
        + " input, torchvision names; trained from scratch", dataset, MNASNET_ROUND_LAMBDA,
        (sd, fold) -> MnasNets.small(mn, sd, c, size, 10, fold),
        rng -> MnasNets.freshSmall(c, 10, rng)));
  }

  /** Adds an architecture (names are unique). */
  public static synchronized void register(Spec spec) {
    if (SPECS.containsKey(spec.name())) {
      throw new IllegalArgumentException("architecture " + spec.name() + " registered twice");
    }
    SPECS.put(spec.name(), spec);
  }

  public static synchronized List<String> names() {
    return new ArrayList<>(SPECS.keySet());
  }

  /** The spec for {@code name}, or an error listing the known names. */
  public static synchronized Spec get(String name) {
    Spec s = SPECS.get(name);
    if (s == null) {
      throw new IllegalArgumentException("unknown architecture '" + name + "'; known: "
          + String.join(", ", SPECS.keySet()));
    }
    return s;
  }

  /** Loads a checkpoint for an architecture with BatchNorm folded. */
  public static Model load(String arch, Path checkpoint) throws IOException {
    return get(arch).build(Checkpoints.read(checkpoint), true);
  }
}
