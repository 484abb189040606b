package org.qlimit.model;

import java.util.SplittableRandom;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * torchvision's ImageNet ResNets (He et al. 2016, "Deep Residual Learning for Image Recognition";
 * torchvision {@code models/resnet.py}, the "v1.5" variant with the Bottleneck stride on the 3×3
 * conv) with torchvision's {@code state_dict} names, so exported weights load without renaming:
 *
 * <pre>
 * conv1 (7×7, stride 2, pad 3), bn1, relu, maxpool (3×3, stride 2, pad 1)   unit "conv1"
 * layer1..layer4: blocks layerS.i.{conv1,bn1,conv2,bn2[,conv3,bn3][,downsample.0,downsample.1]}
 * avgpool, fc                                                              unit "fc"
 * </pre>
 *
 * Stage widths are w, 2w, 4w, 8w with base width w = 64 in torchvision; a smaller base width keeps
 * every name and only shrinks the channel counts (used for the golden fixtures). The first block of
 * stages 2–4 has stride 2; a block gets a {@code downsample} (1×1 conv + BN, "option B") when its
 * stride is 2 or its channel count changes.
 */
public final class TorchvisionResNets {
  private TorchvisionResNets() {}

  /** Depth and block type. */
  public enum Depth {
    RESNET18(false, 2, 2, 2, 2),
    RESNET50(true, 3, 4, 6, 3);

    final boolean bottleneck;
    final int[] blocks;

    Depth(boolean bottleneck, int... blocks) {
      this.bottleneck = bottleneck;
      this.blocks = blocks;
    }

    /** Output channels per stage width (Bottleneck expansion 4). */
    int expansion() {
      return bottleneck ? 4 : 1;
    }
  }

  /**
   * Builds the network from a torchvision state dict for 3×size×size inputs; with {@code fold},
   * BatchNorm is folded into the convolutions.
   */
  public static Model load(String arch, StateDict sd, Depth depth, int baseWidth, int size,
      int classes, boolean fold) {
    return define(arch, NetBuilder.loading(sd, fold), depth, baseWidth, size, classes);
  }

  /** Freshly initialised weights with the same names (see {@link NetBuilder#convBn}). */
  public static StateDict fresh(Depth depth, int baseWidth, int classes, SplittableRandom rng) {
    NetBuilder b = NetBuilder.fresh("fresh " + depth.name().toLowerCase(), rng);
    define(depth.name().toLowerCase(), b, depth, baseWidth, 224, classes);
    return b.stateDict();
  }

  static Model define(String arch, NetBuilder b, Depth depth, int baseWidth, int size,
      int classes) {
    b.add(new PooledConvUnit("conv1", b.convBn("conv1", "bn1", 3, baseWidth, 7, 2, 1),
        Activation.RELU, 3, 2, 1));
    int cin = baseWidth;
    for (int stage = 0; stage < 4; stage++) {
      int planes = baseWidth << stage;
      int cout = planes * depth.expansion();
      for (int i = 0; i < depth.blocks[stage]; i++) {
        String n = "layer" + (stage + 1) + "." + i;
        int stride = stage > 0 && i == 0 ? 2 : 1;
        // Created in torchvision's state_dict order: conv/bn pairs, then downsample.
        if (depth.bottleneck) {
          ConvBn c1 = b.convBn(n + ".conv1", n + ".bn1", cin, planes, 1, 1, 1);
          ConvBn c2 = b.convBn(n + ".conv2", n + ".bn2", planes, planes, 3, stride, 1);
          ConvBn c3 = b.convBn(n + ".conv3", n + ".bn3", planes, cout, 1, 1, 1);
          b.add(new Bottleneck(n, c1, c2, c3, downsample(b, n, cin, cout, stride)));
        } else {
          ConvBn c1 = b.convBn(n + ".conv1", n + ".bn1", cin, planes, 3, stride, 1);
          ConvBn c2 = b.convBn(n + ".conv2", n + ".bn2", planes, planes, 3, 1, 1);
          b.add(new BasicBlock(n, c1, c2, downsample(b, n, cin, cout, stride), 0));
        }
        cin = cout;
      }
    }
    b.add(new Head(b.linear("fc", cin, classes)));
    return b.model(arch, 3, size, classes);
  }

  private static ConvBn downsample(NetBuilder b, String n, int cin, int cout, int stride) {
    return stride != 1 || cin != cout
        ? b.convBn(n + ".downsample.0", n + ".downsample.1", cin, cout, 1, stride, 1) : null;
  }
}
