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
import org.qlimit.util.Check;

/**
 * Inverted residual block (ALGORITHMS.md §6) of MobileNetV2 (Sandler et al. 2018, "MobileNetV2:
 * Inverted Residuals and Linear Bottlenecks") and MNASNet (Tan et al. 2019, "MnasNet:
 * Platform-Aware Neural Architecture Search for Mobile"): optional 1×1 expand conv-BN-act, k×k
 * depthwise conv-BN-act (k = 3 or 5, stride 1 or 2, padding k/2), 1×1 project conv-BN with no
 * activation (the linear bottleneck), plus the identity shortcut when the depthwise stride is 1
 * and the input and output channels agree. No activation follows the addition.
 *
 * <p>The activation {@code act} is ReLU6 for MobileNetV2 and ReLU for MNASNet. Layer names are
 * whatever the builder gave the convolutions (torchvision's differ between the two networks).
 * Activation sites: one after the expand activation and one after the depthwise activation, each
 * named after the convolution it follows, and the block output {@code <name>} (after the
 * addition, or after the project BN when there is no shortcut).
 */
public record InvertedResidual(String name, ConvBn expand, ConvBn depthwise, ConvBn project,
    Activation act) implements Unit {

  public InvertedResidual {
    var dw = depthwise.conv();
    Check.arg(dw.groups() == dw.outChannels() && dw.inChannels() == dw.outChannels(),
        "%s: %s must be depthwise (groups = channels), got groups %d for %d channels", name,
        dw.name(), dw.groups(), dw.outChannels());
    Check.arg(expand == null || expand.conv().outChannels() == dw.inChannels(),
        "%s: expand gives %d channels, depthwise takes %d", name,
        expand == null ? 0 : expand.conv().outChannels(), dw.inChannels());
    Check.arg(project.conv().inChannels() == dw.outChannels(),
        "%s: project takes %d channels, depthwise gives %d", name, project.conv().inChannels(),
        dw.outChannels());
  }

  /** Input channels of the block. */
  public int inChannels() {
    return expand == null ? depthwise.conv().inChannels() : expand.conv().inChannels();
  }

  /** True when the block adds its input to its output (stride 1, in == out channels). */
  public boolean hasShortcut() {
    return depthwise.conv().stride() == 1 && inChannels() == project.conv().outChannels();
  }

  @Override
  public List<Layer> layers() {
    List<Layer> l = new ArrayList<>();
    if (expand != null) {
      l.add(expand.conv());
    }
    l.add(depthwise.conv());
    l.add(project.conv());
    return l;
  }

  @Override
  public List<String> actSites() {
    List<String> s = new ArrayList<>();
    if (expand != null) {
      s.add(expand.conv().name());
    }
    s.add(depthwise.conv().name());
    s.add(name);
    return s;
  }

  @Override
  public String outputSite() {
    return name;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var h = x;
    if (expand != null) {
      h = ctx.activation(g, expand.conv().name(), act.apply(g, expand.forward(g, h, ctx)));
    }
    h = ctx.activation(g, depthwise.conv().name(), act.apply(g, depthwise.forward(g, h, ctx)));
    h = project.forward(g, h, ctx);
    if (hasShortcut()) {
      h = Functions.add(g, h, x);
    }
    return ctx.activation(g, name, h);
  }

  @Override
  public int[] outputShape(int[] in) {
    var c = depthwise.conv();
    return new int[] {project.conv().outChannels(), c.outH(in[1]), c.outW(in[2])};
  }

  @Override
  public String kind() {
    return "InvertedResidual";
  }

  public InvertedResidual folded() {
    return new InvertedResidual(name, expand == null ? null : expand.folded(), depthwise.folded(),
        project.folded(), act);
  }

  @Override
  public Activation activationAfter(Layer layer) {
    boolean activated = layer == depthwise.conv() || expand != null && layer == expand.conv();
    return activated ? act : Activation.NONE;
  }
}
