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
 * ResNet Bottleneck block (ALGORITHMS.md §6), torchvision layout ("ResNet v1.5": the stride sits
 * on the 3×3 conv2, not on conv1; He et al. 2016, torchvision {@code models/resnet.py}):
 * conv1 1×1-BN-ReLU, conv2 3×3-BN-ReLU, conv3 1×1-BN, + shortcut, add, ReLU.
 *
 * <p>Shortcut: identity, or {@code downsample.0} (1×1 conv with the block's stride) +
 * {@code downsample.1} (BN). Activation sites: {@code <name>.conv1} and {@code <name>.conv2} after
 * the first two ReLUs, {@code <name>} after the final ReLU. conv3's output and the shortcut feed
 * the addition and are not quantized.
 */
public record Bottleneck(String name, ConvBn conv1, ConvBn conv2, ConvBn conv3, ConvBn downsample)
    implements Unit {

  @Override
  public List<Layer> layers() {
    List<Layer> l = new ArrayList<>(List.of(conv1.conv(), conv2.conv(), conv3.conv()));
    if (downsample != null) {
      l.add(downsample.conv());
    }
    return l;
  }

  @Override
  public List<String> actSites() {
    return List.of(name + ".conv1", name + ".conv2", name);
  }

  @Override
  public String outputSite() {
    return name;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = ctx.activation(g, name + ".conv1", Functions.relu(g, conv1.forward(g, x, ctx)));
    h = ctx.activation(g, name + ".conv2", Functions.relu(g, conv2.forward(g, h, ctx)));
    h = conv3.forward(g, h, ctx);
    Var sc = downsample == null ? x : downsample.forward(g, x, ctx);
    return ctx.activation(g, name, Functions.relu(g, Functions.add(g, h, sc)));
  }

  @Override
  public int[] outputShape(int[] in) {
    var c = conv2.conv();
    return new int[] {conv3.conv().outChannels(), c.outH(in[1]), c.outW(in[2])};
  }

  @Override
  public String kind() {
    return "Bottleneck";
  }

  public Bottleneck folded() {
    return new Bottleneck(name, conv1.folded(), conv2.folded(), conv3.folded(),
        downsample == null ? null : downsample.folded());
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return layer == conv1.conv() || layer == conv2.conv() ? Activation.RELU : Activation.NONE;
  }
}
