package org.qlimit.model;

import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;

/**
 * A single-layer unit: conv (+BN) + activation, with an activation site on its output named after
 * the layer. Used for stems and for MobileNetV2's last 1×1 convolution.
 */
public record ConvUnit(String name, ConvBn conv, Activation act) implements Unit {

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
    return ctx.activation(g, name, act.apply(g, conv.forward(g, x, ctx)));
  }

  @Override
  public int[] outputShape(int[] in) {
    var c = conv.conv();
    return new int[] {c.outChannels(), c.outH(in[1]), c.outW(in[2])};
  }

  @Override
  public String kind() {
    return "layer";
  }

  public ConvUnit folded() {
    return new ConvUnit(name, conv.folded(), act);
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return layer == conv.conv() ? act : Activation.NONE;
  }
}
