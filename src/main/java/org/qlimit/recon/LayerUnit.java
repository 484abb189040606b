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
 * own: layer-wise AdaRound (ALGORITHMS.md §4.3, no activation site) and BRECQ's and QDrop's
 * layer granularity (§4.4, with the layer's own output site when it has one).
 *
 * @param layer the layer
 * @param act the activation function applied to its output inside its block
 * @param site the activation site that quantizes the layer's activated output, or null
 */
record LayerUnit(Layer layer, Activation act, String site) implements Unit {

  /** The layer and its activation function, without an activation site. */
  LayerUnit(Layer layer, Activation act) {
    this(layer, act, null);
  }

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
    return site == null ? List.of() : List.of(site);
  }

  @Override
  public String outputSite() {
    return site;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var y = act.apply(g, layer.forward(g, x, ctx));
    return site == null ? y : ctx.activation(g, site, y);
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
