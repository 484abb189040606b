package org.qlimit.model;

import java.util.ArrayList;
import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;

/**
 * ResNet BasicBlock (ALGORITHMS.md §6): conv1-BN-ReLU, conv2-BN, + shortcut, add, ReLU.
 *
 * <p>Shortcut: identity, a 1×1 conv + BN ("option B", {@code downsample}), or the parameter-free
 * "option A" (keep even rows/columns, zero-pad {@code optionAPad} channels on each side).
 * Activation sites: {@code <name>.conv1} after the first ReLU and {@code <name>} after the final
 * ReLU. conv2's output feeds the addition and is not quantized.
 */
public record BasicBlock(String name, ConvBn conv1, ConvBn conv2, ConvBn downsample,
    int optionAPad) implements Unit {

  @Override
  public List<Layer> layers() {
    List<Layer> l = new ArrayList<>(List.of(conv1.conv(), conv2.conv()));
    if (downsample != null) {
      l.add(downsample.conv());
    }
    return l;
  }

  @Override
  public List<String> actSites() {
    return List.of(name + ".conv1", name);
  }

  @Override
  public String outputSite() {
    return name;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = ctx.activation(g, name + ".conv1", Functions.relu(g, conv1.forward(g, x, ctx)));
    h = conv2.forward(g, h, ctx);
    Var sc;
    if (downsample != null) {
      sc = downsample.forward(g, x, ctx);
    } else if (optionAPad > 0) {
      sc = Functions.subsamplePadChannels(g, x, optionAPad);
    } else {
      sc = x;
    }
    return ctx.activation(g, name, Functions.relu(g, Functions.add(g, h, sc)));
  }

  @Override
  public int[] outputShape(int[] in) {
    var c = conv1.conv();
    return new int[] {conv2.conv().outChannels(), c.outH(in[1]), c.outW(in[2])};
  }

  @Override
  public String kind() {
    return "BasicBlock";
  }

  public BasicBlock folded() {
    return new BasicBlock(name, conv1.folded(), conv2.folded(),
        downsample == null ? null : downsample.folded(), optionAPad);
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return layer == conv1.conv() ? Activation.RELU : Activation.NONE;
  }
}
