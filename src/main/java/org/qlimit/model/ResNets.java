package org.qlimit.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * ResNets for small inputs (He et al. 2016, CIFAR variant): a 3×3 stem with 16 channels, three
 * stages of n BasicBlocks with 16/32/64 channels (the first block of stages 2 and 3 has stride 2),
 * global average pooling and a linear classifier. Depth = 6n + 2.
 *
 * <ul>
 *   <li>"option A" shortcut, PyTorch names {@code conv1, bn1, layerL.i.*, linear}: the
 *       akamaster CIFAR-10 checkpoints (ResNet-20/32/44/56).</li>
 *   <li>"option B" shortcut ({@code layerL.0.downsample.0/1}), classifier {@code fc}: the
 *       Fashion-MNIST reference ResNet-20.</li>
 * </ul>
 */
public final class ResNets {
  private ResNets() {}

  /** Which shortcut the stride-2 blocks use. */
  public enum Shortcut { OPTION_A, OPTION_B }

  /**
   * Builds the network from a state dict. With {@code fold}, BatchNorm is folded into the
   * convolutions (the form used for quantization and evaluation).
   */
  public static Model load(String arch, StateDict sd, int depth, int inChannels, int size,
      int classes, Shortcut shortcut, boolean fold) {
    Check.arg((depth - 2) % 6 == 0 && depth >= 8, "ResNet depth must be 6n+2, got %d", depth);
    int n = (depth - 2) / 6;
    sd.ignoreSuffix("num_batches_tracked");
    List<Unit> units = new ArrayList<>();
    ConvUnit stem = new ConvUnit("conv1",
        ConvBn.load(sd, "conv1", "bn1", inChannels, 16, 3, 1, 1, 1, false), Activation.RELU);
    units.add(fold ? stem.folded() : stem);
    int cin = 16;
    int[] widths = {16, 32, 64};
    for (int stage = 0; stage < 3; stage++) {
      int planes = widths[stage];
      for (int i = 0; i < n; i++) {
        String name = "layer" + (stage + 1) + "." + i;
        int stride = stage > 0 && i == 0 ? 2 : 1;
        ConvBn c1 = ConvBn.load(sd, name + ".conv1", name + ".bn1", cin, planes, 3, stride, 1, 1,
            false);
        ConvBn c2 = ConvBn.load(sd, name + ".conv2", name + ".bn2", planes, planes, 3, 1, 1, 1,
            false);
        ConvBn ds = null;
        int padA = 0;
        if (stride != 1 || cin != planes) {
          if (shortcut == Shortcut.OPTION_B) {
            ds = ConvBn.load(sd, name + ".downsample.0", name + ".downsample.1", cin, planes, 1,
                stride, 0, 1, false);
          } else {
            padA = planes / 4;
          }
        }
        BasicBlock b = new BasicBlock(name, c1, c2, ds, padA);
        units.add(fold ? b.folded() : b);
        cin = planes;
      }
    }
    String fcName = shortcut == Shortcut.OPTION_A ? "linear" : "fc";
    Linear fc = new Linear(fcName,
        new Var(sd.take(fcName + ".weight", classes, 64), !fold, fcName + ".weight"),
        new Var(sd.take(fcName + ".bias", classes), !fold, fcName + ".bias"));
    units.add(new Head(fc));
    sd.requireAllTaken();
    return new Model(arch, units, new int[] {inChannels, size, size}, classes);
  }

  /**
   * A freshly initialised (unfolded, trainable) network with the same names, for training from
   * scratch: Kaiming-normal convolutions, BatchNorm γ = 1, β = 0, PyTorch-default linear init.
   */
  public static StateDict freshStateDict(int depth, int inChannels, int classes,
      Shortcut shortcut, SplittableRandom rng) {
    StateDict sd = new StateDict("fresh resnet" + depth);
    int n = (depth - 2) / 6;
    conv(sd, "conv1", "bn1", inChannels, 16, 3, rng);
    int cin = 16;
    int[] widths = {16, 32, 64};
    for (int stage = 0; stage < 3; stage++) {
      int planes = widths[stage];
      for (int i = 0; i < n; i++) {
        String name = "layer" + (stage + 1) + "." + i;
        int stride = stage > 0 && i == 0 ? 2 : 1;
        conv(sd, name + ".conv1", name + ".bn1", cin, planes, 3, rng);
        conv(sd, name + ".conv2", name + ".bn2", planes, planes, 3, rng);
        if ((stride != 1 || cin != planes) && shortcut == Shortcut.OPTION_B) {
          conv(sd, name + ".downsample.0", name + ".downsample.1", cin, planes, 1, rng);
        }
        cin = planes;
      }
    }
    String fcName = shortcut == Shortcut.OPTION_A ? "linear" : "fc";
    Init.linear(sd, fcName, 64, classes, rng);
    return sd;
  }

  private static void conv(StateDict sd, String conv, String bn, int cin, int cout, int k,
      SplittableRandom rng) {
    Init.kaimingConv(sd, conv, cin, cout, k, 1, rng);
    Init.batchNorm(sd, bn, cout);
  }
}
