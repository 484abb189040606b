package org.qlimit.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * The supported architectures by command-line name. Each entry builds a {@link Model} from a
 * PyTorch-named state dict (BatchNorm folded for quantization and evaluation, or kept for
 * training) and can create freshly initialised weights.
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
  }

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
