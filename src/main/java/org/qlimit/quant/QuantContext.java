package org.qlimit.quant;

import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.util.Check;

/**
 * A forward pass through a quantized model: which parts of a {@link QuantState} are active.
 * Immutable; build the variant a phase needs ({@link #weightsOnly}, {@link #full}, ...) instead of
 * flipping flags across the model.
 *
 * @param state the quantizers
 * @param actsOn whether activation quantizers apply
 * @param drop QDrop settings, or null: when set, sites listed in {@code dropSites} drop per
 *     element
 * @param dropSites sites of the unit under reconstruction, in order (mixing point i + 1)
 * @param gradScale LSQ gradient scale (negative: QDrop's 1/sqrt(numel·qmax) per tensor)
 * @param onLayerInput optional observer of layer inputs (layer-wise caching), or null
 */
public record QuantContext(QuantState state, boolean actsOn, Dropping drop,
    List<String> dropSites, float gradScale, LayerInputObserver onLayerInput)
    implements ForwardContext {

  /** Receives each layer's input during a forward pass. */
  @FunctionalInterface
  public interface LayerInputObserver {
    void input(Layer layer, Var x);
  }

  public QuantContext {
    Check.arg(state != null, "QuantContext: state is null");
    dropSites = dropSites == null ? List.of() : List.copyOf(dropSites);
  }

  /** Quantized weights, FP activations. */
  public static QuantContext weightsOnly(QuantState s) {
    return new QuantContext(s, false, null, List.of(), 1f, null);
  }

  /** Quantized weights and activations. */
  public static QuantContext full(QuantState s) {
    return new QuantContext(s, true, null, List.of(), 1f, null);
  }

  public QuantContext withGradScale(float g) {
    return new QuantContext(state, actsOn, drop, dropSites, g, onLayerInput);
  }

  public QuantContext withDrop(Dropping d, List<String> sites) {
    return new QuantContext(state, actsOn, d, sites, gradScale, onLayerInput);
  }

  public QuantContext observingLayerInputs(LayerInputObserver o) {
    return new QuantContext(state, actsOn, drop, dropSites, gradScale, o);
  }

  @Override
  public Var weight(Graph g, Layer layer) {
    WeightQuantizer q = state.weight(layer.name());
    return q == null ? layer.weight() : q.weight(g);
  }

  @Override
  public Var activation(Graph g, String site, Var x) {
    if (!actsOn) {
      return x;
    }
    ActQuantizer q = state.act(site);
    if (q == null) {
      return x;
    }
    Dropping.Site ds = null;
    if (drop != null) {
      int i = dropSites.indexOf(site);
      if (i >= 0) {
        ds = drop.site(i + 1);
      }
    }
    return q.apply(g, x, ds, gradScale);
  }

  /** The 8-bit table of {@link QuantState#embeddingTable} (weights and activations alike). */
  @Override
  public Var embeddingTable(Graph g, String name, Var table) {
    return state.embeddingTable(name, table);
  }

  @Override
  public void layerInput(Layer layer, Var x) {
    if (onLayerInput != null) {
      onLayerInput.input(layer, x);
    }
  }
}
