package org.qlimit.model;

import java.util.SplittableRandom;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * A small MNASNet (Tan et al. 2019, "MnasNet: Platform-Aware Neural Architecture Search for
 * Mobile") for 28×28 and 32×32 inputs, in torchvision's {@code models/mnasnet.py} naming, where
 * the network is one {@code layers} sequence:
 *
 * <pre>
 * layers.0, layers.1 (layers.2 ReLU)          3×3 conv + BN stem        ConvUnit "layers.0"
 * layers.3, .4 (.5 ReLU), layers.6, layers.7  depthwise 3×3 + BN + ReLU, 1×1 project + BN
 *                                             (separable conv)          InvertedResidual "layers.7"
 * layers.K.i.layers.{0,1 | 3,4 | 6,7}        expand, depthwise k×k, project (K = 8, 9, ...)
 * layers.L, layers.L+1 (layers.L+2 ReLU)      1×1 conv + BN             ConvUnit "layers.L"
 * classifier.1                                Linear (classifier.0 is dropout)
 * </pre>
 *
 * All activations are ReLU. "mnasnet-small": stem 16 channels stride 1; separable conv to 8
 * channels; stacks of (expansion, kernel, channels, repeats, stride) = (3, 3, 16, 1, 2),
 * (3, 5, 24, 2, 2), (6, 5, 40, 2, 1), (6, 3, 48, 1, 1); a 1×1 conv to 256 channels and the
 * classifier (28×28 → 7×7, 32×32 → 8×8).
 */
public final class MnasNets {
  private MnasNets() {}

  /** (expansion, kernel, channels, repeats, first stride) per stack. */
  static final int[][] SMALL = {{3, 3, 16, 1, 2}, {3, 5, 24, 2, 2}, {6, 5, 40, 2, 1},
      {6, 3, 48, 1, 1}};
  static final int STEM = 16;
  static final int SEPARABLE = 8;
  static final int LAST = 256;

  public static Model small(String arch, StateDict sd, int inChannels, int size, int classes,
      boolean fold) {
    return define(arch, NetBuilder.loading(sd, fold), inChannels, size, classes);
  }

  public static StateDict freshSmall(int inChannels, int classes, SplittableRandom rng) {
    NetBuilder b = NetBuilder.fresh("fresh mnasnet-small", rng);
    define("mnasnet-small", b, inChannels, 32, classes);
    return b.stateDict();
  }

  static Model define(String arch, NetBuilder b, int inChannels, int size, int classes) {
    Activation act = Activation.RELU;
    b.add(new ConvUnit("layers.0",
        b.convBn("layers.0", "layers.1", inChannels, STEM, 3, 1, 1), act));
    ConvBn sepDw = b.convBn("layers.3", "layers.4", STEM, STEM, 3, 1, STEM);
    ConvBn sepPw = b.convBn("layers.6", "layers.7", STEM, SEPARABLE, 1, 1, 1);
    // No torchvision module holds layers 3..7; the unit (and its output site) is named after
    // layers.7, the module whose output is the block's output ("layers.3" is the depthwise site).
    b.add(new InvertedResidual("layers.7", null, sepDw, sepPw, act));
    int cin = SEPARABLE;
    int idx = 8;
    for (int[] st : SMALL) {
      int t = st[0];
      int k = st[1];
      int c = st[2];
      for (int i = 0; i < st[3]; i++) {
        String n = "layers." + idx + "." + i;
        String p = n + ".layers.";
        int hidden = cin * t;
        ConvBn expand = b.convBn(p + "0", p + "1", cin, hidden, 1, 1, 1);
        ConvBn dw = b.convBn(p + "3", p + "4", hidden, hidden, k, i == 0 ? st[4] : 1, hidden);
        ConvBn project = b.convBn(p + "6", p + "7", hidden, c, 1, 1, 1);
        b.add(new InvertedResidual(n, expand, dw, project, act));
        cin = c;
      }
      idx++;
    }
    String last = "layers." + idx;
    b.add(new ConvUnit(last, b.convBn(last, "layers." + (idx + 1), cin, LAST, 1, 1, 1), act));
    b.add(new Head(b.linear("classifier.1", LAST, classes)));
    return b.model(arch, inChannels, size, classes);
  }
}
