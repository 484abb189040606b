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
 * RegNetX residual bottleneck block (ALGORITHMS.md §6; Radosavovic et al. 2020, "Designing Network
 * Design Spaces"; torchvision {@code ResBottleneckBlock} with bottleneck multiplier 1 and no
 * squeeze-excitation): {@code f.a} 1×1-BN-ReLU, {@code f.b} 3×3 group conv (stride here, groups =
 * width / group width)-BN-ReLU, {@code f.c} 1×1-BN, + shortcut (identity, or the {@code proj}
 * 1×1 conv + BN projection), add, ReLU.
 *
 * <p>Activation sites: after the ReLU of {@code a} and of {@code b}, each named after its
 * convolution (torchvision: {@code <name>.f.a.0}, {@code <name>.f.b.0}), and {@code <name>} after
 * the final ReLU. c's output and the shortcut feed the addition and are not quantized.
 */
public record RegNetBlock(String name, ConvBn a, ConvBn b, ConvBn c, ConvBn proj)
    implements Unit {

  @Override
  public List<Layer> layers() {
    List<Layer> l = new ArrayList<>(List.of(a.conv(), b.conv(), c.conv()));
    if (proj != null) {
      l.add(proj.conv());
    }
    return l;
  }

  @Override
  public List<String> actSites() {
    return List.of(a.conv().name(), b.conv().name(), name);
  }

  @Override
  public String outputSite() {
    return name;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = ctx.activation(g, a.conv().name(), Functions.relu(g, a.forward(g, x, ctx)));
    h = ctx.activation(g, b.conv().name(), Functions.relu(g, b.forward(g, h, ctx)));
    h = c.forward(g, h, ctx);
    Var sc = proj == null ? x : proj.forward(g, x, ctx);
    return ctx.activation(g, name, Functions.relu(g, Functions.add(g, h, sc)));
  }

  @Override
  public int[] outputShape(int[] in) {
    var conv = b.conv();
    return new int[] {c.conv().outChannels(), conv.outH(in[1]), conv.outW(in[2])};
  }

  @Override
  public String kind() {
    return "RegNetBlock";
  }

  public RegNetBlock folded() {
    return new RegNetBlock(name, a.folded(), b.folded(), c.folded(),
        proj == null ? null : proj.folded());
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return layer == a.conv() || layer == b.conv() ? Activation.RELU : Activation.NONE;
  }
}
