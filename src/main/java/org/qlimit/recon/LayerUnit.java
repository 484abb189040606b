package org.qlimit.recon;

import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;

/**
 * One layer and the activation function applied right after it, as a reconstruction unit of its
 * own (layer-wise AdaRound, ALGORITHMS.md §4.3). It has no activation sites.
 */
record LayerUnit(Layer layer, Activation act) implements Unit {

  @Override
  public String name() {
    return layer.name();
  }

  @Override
  public List<Layer> layers() {
    return List.of(layer);
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
    return act.apply(g, layer.forward(g, x, ctx));
  }

  @Override
  public int[] outputShape(int[] in) {
    throw new UnsupportedOperationException("LayerUnit shapes come from cached tensors");
  }

  @Override
  public String kind() {
    return "layer";
  }

  @Override
  public Activation activationAfter(Layer l) {
    return l == layer ? act : Activation.NONE;
  }
}
