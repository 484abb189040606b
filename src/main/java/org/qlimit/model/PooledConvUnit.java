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
 * <p>The site is applied after the max pooling. For a fixed quantizer q that is non-decreasing
 * (every uniform quantizer with a positive scale), max(q(x_i)) = q(max(x_i)), so quantizing before
 * or after the pooling gives the same forward values; after is cheaper (4× fewer elements) and
 * the quantizer sees exactly the tensor the next unit consumes. Range statistics (observers) and
 * QDrop's element-wise dropping do see the pooled tensor, not the pre-pool one.
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
    Var h = act.apply(g, conv.forward(g, x, ctx));
    return ctx.activation(g, name, Functions.maxPool2d(g, h, poolKernel, poolStride, poolPad));
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
