package org.qlimit.model;

import java.util.SplittableRandom;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * A small RegNetX (Radosavovic et al. 2020, "Designing Network Design Spaces") for 28×28 and
 * 32×32 inputs, in torchvision's {@code models/regnet.py} naming:
 *
 * <pre>
 * stem.{0,1}                                   3×3 conv + BN + ReLU     ConvUnit "stem"
 * trunk_output.blockS.blockS-i.f.{a,b,c}.{0,1} 1×1, 3×3 group, 1×1     RegNetBlock
 * trunk_output.blockS.blockS-i.proj.{0,1}      1×1 projection shortcut
 * fc                                           Linear after global average pooling
 * </pre>
 *
 * "regnetx-small": stem 16 channels stride 1; stages of widths 32, 64, 128 with depths 1, 2, 2 and
 * strides 2, 2, 1 (28×28 → 7×7, 32×32 → 8×8; torchvision's stages all have stride 2, the last is
 * kept at stride 1 here so the small input is not reduced below 7×7); bottleneck multiplier 1
 * (RegNetX) and group width 8, so the 3×3 convs have width / 8 groups.
 */
public final class RegNets {
  private RegNets() {}

  static final int[] WIDTHS = {32, 64, 128};
  static final int[] DEPTHS = {1, 2, 2};
  static final int[] STRIDES = {2, 2, 1};
  static final int GROUP_WIDTH = 8;
  static final int STEM = 16;

  public static Model small(String arch, StateDict sd, int inChannels, int size, int classes,
      boolean fold) {
    return define(arch, NetBuilder.loading(sd, fold), inChannels, size, classes);
  }

  public static StateDict freshSmall(int inChannels, int classes, SplittableRandom rng) {
    NetBuilder b = NetBuilder.fresh("fresh regnetx-small", rng);
    define("regnetx-small", b, inChannels, 32, classes);
    return b.stateDict();
  }

  static Model define(String arch, NetBuilder b, int inChannels, int size, int classes) {
    b.add(new ConvUnit("stem", b.convBn("stem.0", "stem.1", inChannels, STEM, 3, 1, 1),
        Activation.RELU));
    int cin = STEM;
    for (int s = 0; s < WIDTHS.length; s++) {
      int w = WIDTHS[s];
      for (int i = 0; i < DEPTHS[s]; i++) {
        String n = "trunk_output.block" + (s + 1) + ".block" + (s + 1) + "-" + i;
        int stride = i == 0 ? STRIDES[s] : 1;
        // torchvision's state_dict order: proj before f.
        ConvBn proj = stride != 1 || cin != w
            ? b.convBn(n + ".proj.0", n + ".proj.1", cin, w, 1, stride, 1) : null;
        ConvBn a = b.convBn(n + ".f.a.0", n + ".f.a.1", cin, w, 1, 1, 1);
        ConvBn bb = b.convBn(n + ".f.b.0", n + ".f.b.1", w, w, 3, stride, w / GROUP_WIDTH);
        ConvBn c = b.convBn(n + ".f.c.0", n + ".f.c.1", w, w, 1, 1, 1);
        b.add(new RegNetBlock(n, a, bb, c, proj));
        cin = w;
      }
    }
    b.add(new Head(b.linear("fc", cin, classes)));
    return b.model(arch, inChannels, size, classes);
  }
}
