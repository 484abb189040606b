package org.qlimit.model;

import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.util.Check;

/**
 * The stem of torchvision's ImageNet ResNets: conv (+BN) + activation + k×k max pooling
 * ({@code conv1, bn1, relu, maxpool}: 7×7 stride 2, then 3×3 stride 2 padding 1). A layer unit
 * with one activation site, {@code <name>}.
 *
 * <p>The site quantizes the activated convolution output before the max pooling, where QDrop's
 * reference puts it (its quantized stem is conv + ReLU, followed by the FP max-pool), so range
 * observers, QDrop's element-wise dropping and LSQ's gradient scale (which counts elements) see
 * the pre-pool tensor. Pooling quantized values keeps them on the grid: for a non-decreasing
 * quantizer q (any uniform quantizer with a positive scale) max(q(x_i)) = q(max(x_i)).
 */
public record PooledConvUnit(String name, ConvBn conv, Activation act, int poolKernel,
    int poolStride, int poolPad) implements Unit {

  public PooledConvUnit {
    Check.arg(poolKernel > 0 && poolStride > 0 && 2 * poolPad <= poolKernel,
        "%s: bad max-pool kernel/stride/pad %d/%d/%d", name, poolKernel, poolStride, poolPad);
  }

  @Override
  public List<Layer> layers() {
    return List.of(conv.conv());
  }

  @Override
  public List<String> actSites() {
    return List.of(name);
  }

  @Override
  public String outputSite() {
    return name;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = ctx.activation(g, name, act.apply(g, conv.forward(g, x, ctx)));
    return Functions.maxPool2d(g, h, poolKernel, poolStride, poolPad);
  }

  @Override
  public int[] outputShape(int[] in) {
    var c = conv.conv();
    int h = c.outH(in[1]);
    int w = c.outW(in[2]);
    return new int[] {c.outChannels(), (h + 2 * poolPad - poolKernel) / poolStride + 1,
        (w + 2 * poolPad - poolKernel) / poolStride + 1};
  }

  @Override
  public String kind() {
    return "layer";
  }

  public PooledConvUnit folded() {
    return new PooledConvUnit(name, conv.folded(), act, poolKernel, poolStride, poolPad);
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return layer == conv.conv() ? act : Activation.NONE;
  }
}
