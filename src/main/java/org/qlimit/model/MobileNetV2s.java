package org.qlimit.model;

import java.util.SplittableRandom;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;

/**
 * MobileNetV2 (Sandler et al. 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks") in
 * torchvision's layout and {@code state_dict} names ({@code models/mobilenetv2.py}):
 *
 * <pre>
 * features.0.{0,1}    3×3 conv + BN + ReLU6 stem                          ConvUnit "features.0"
 * features.N (t = 1)  conv.0.{0,1} depthwise, conv.1 project, conv.2 BN   InvertedResidual
 * features.N (t &gt; 1)  conv.0.{0,1} expand, conv.1.{0,1} depthwise,
 *                     conv.2 project, conv.3 BN                           InvertedResidual
 * features.L.{0,1}    1×1 conv + BN + ReLU6                               ConvUnit "features.L"
 * classifier.1        Linear after global average pooling (classifier.0 is dropout)
 * </pre>
 *
 * Blocks follow a table of (expansion t, channels c, repeats n, first stride s); the hidden width
 * of a block is round(t · input channels). {@link #torchvision} uses torchvision's table and width
 * multiplier rule; {@link #small} is a reduced network for 28×28 and 32×32 inputs.
 */
public final class MobileNetV2s {
  private MobileNetV2s() {}

  /** torchvision's (t, c, n, s) table for width multiplier 1.0. */
  static final int[][] TORCHVISION = {
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
      {6, 320, 1, 1}};

  /**
   * The small network "mobilenetv2-small": stem 3×3 conv with 16 channels and stride 1, then
   * (t, c, n, s) = (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 2, 2), (6, 64, 1, 1), a 1×1 conv to 256
   * channels and the classifier: 28×28 → 7×7 (32×32 → 8×8) before pooling.
   */
  static final int[][] SMALL = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 2, 2}, {6, 64, 1, 1}};

  /**
   * torchvision's {@code _make_divisible}: the nearest multiple of 8 to v (rounding half up), at
   * least 8, and raised by 8 when rounding lost more than 10 %.
   */
  static int makeDivisible(double v) {
    int d = 8;
    int r = Math.max(d, (int) (v + d / 2.0) / d * d);
    return r < 0.9 * v ? r + d : r;
  }

  /**
   * torchvision's MobileNetV2 for 3×size×size inputs with width multiplier {@code width}
   * (1.0 in torchvision; channels are made divisible by 8, the last conv keeps at least 1280).
   */
  public static Model torchvision(String arch, StateDict sd, double width, int size, int classes,
      boolean fold) {
    return defineTorchvision(arch, NetBuilder.loading(sd, fold), width, size, classes);
  }

  public static StateDict freshTorchvision(double width, int classes, SplittableRandom rng) {
    NetBuilder b = NetBuilder.fresh("fresh mobilenetv2", rng);
    defineTorchvision("mobilenetv2", b, width, 224, classes);
    return b.stateDict();
  }

  /** The small network {@link #SMALL} for inChannels×size×size inputs. */
  public static Model small(String arch, StateDict sd, int inChannels, int size, int classes,
      boolean fold) {
    return define(arch, NetBuilder.loading(sd, fold), inChannels, size, classes, 16, 1, SMALL,
        256);
  }

  public static StateDict freshSmall(int inChannels, int classes, SplittableRandom rng) {
    NetBuilder b = NetBuilder.fresh("fresh mobilenetv2-small", rng);
    define("mobilenetv2-small", b, inChannels, 32, classes, 16, 1, SMALL, 256);
    return b.stateDict();
  }

  private static Model defineTorchvision(String arch, NetBuilder b, double width, int size,
      int classes) {
    int[][] table = new int[TORCHVISION.length][];
    for (int i = 0; i < table.length; i++) {
      table[i] = TORCHVISION[i].clone();
      table[i][1] = makeDivisible(TORCHVISION[i][1] * width);
    }
    return define(arch, b, 3, size, classes, makeDivisible(32 * width), 2, table,
        makeDivisible(1280 * Math.max(1.0, width)));
  }

  static Model define(String arch, NetBuilder b, int inChannels, int size, int classes,
      int stemChannels, int stemStride, int[][] table, int lastChannels) {
    Activation act = Activation.RELU6;
    b.add(new ConvUnit("features.0",
        b.convBn("features.0.0", "features.0.1", inChannels, stemChannels, 3, stemStride, 1),
        act));
    int cin = stemChannels;
    int idx = 1;
    for (int[] row : table) {
      int t = row[0];
      int c = row[1];
      for (int i = 0; i < row[2]; i++) {
        String p = "features." + idx + ".conv.";
        int stride = i == 0 ? row[3] : 1;
        int hidden = cin * t;
        ConvBn expand = null;
        int dw = 0;
        if (t != 1) {
          expand = b.convBn(p + "0.0", p + "0.1", cin, hidden, 1, 1, 1);
          dw = 1;
        }
        ConvBn depthwise = b.convBn(p + dw + ".0", p + dw + ".1", hidden, hidden, 3, stride,
            hidden);
        ConvBn project = b.convBn(p + (dw + 1), p + (dw + 2), hidden, c, 1, 1, 1);
        b.add(new InvertedResidual("features." + idx, expand, depthwise, project, act));
        cin = c;
        idx++;
      }
    }
    String last = "features." + idx;
    b.add(new ConvUnit(last, b.convBn(last + ".0", last + ".1", cin, lastChannels, 1, 1, 1),
        act));
    b.add(new Head(b.linear("classifier.1", lastChannels, classes)));
    return b.model(arch, inChannels, size, classes);
  }
}
