package org.qlimit.model;

import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Unit;

/**
 * Classifier head: global average pooling, then a fully connected layer. Its output (the logits)
 * is not quantized, so it has no activation site. Its input is the previous unit's output site.
 */
public record Head(Linear fc) implements Unit {

  @Override
  public String name() {
    return fc.name();
  }

  @Override
  public List<Layer> layers() {
    return List.of(fc);
  }

  @Override
  public List<String> actSites() {
    return List.of();
  }

  @Override
  public String outputSite() {
    return null;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    return fc.forward(g, prologue(g, x), ctx);
  }

  /** Global average pooling of an (N, C, H, W) input; an (N, C) input passes unchanged. */
  @Override
  public Var prologue(Graph g, Var x) {
    return x.value().rank() == 4 ? Functions.globalAvgPool(g, x) : x;
  }

  @Override
  public int[] outputShape(int[] in) {
    return new int[] {fc.outChannels(), 1, 1};
  }

  @Override
  public String kind() {
    return "layer";
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return Activation.NONE;
  }
}
