package org.qlimit.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.util.Check;

/**
 * The quantization of one FP model: a weight quantizer per layer and an activation quantizer per
 * activation site, kept in the model's execution order. The FP model itself is never modified;
 * a {@link QuantContext} combines the two for a forward pass.
 *
 * <p>A layer without a weight quantizer keeps its FP weight; a site without an activation
 * quantizer passes activations through (e.g. when activations stay at 32 bits).
 */
public final class QuantState {
  private final Model model;
  private final Map<String, WeightQuantizer> weights = new LinkedHashMap<>();
  private final Map<String, ActQuantizer> acts = new LinkedHashMap<>();

  public QuantState(Model model) {
    this.model = model;
  }

  public Model model() {
    return model;
  }

  /** Sets (Modified) the weight quantizer of a layer of this model. */
  public void setWeight(Layer layer, WeightQuantizer q) {
    Check.arg(model.layers().contains(layer), "layer %s is not part of model %s", layer.name(),
        model.arch());
    weights.put(layer.name(), q);
  }

  /** Sets (Modified) the activation quantizer of a site of this model. */
  public void setAct(String site, ActQuantizer q) {
    Check.arg(model.actSites().contains(site), "site %s is not part of model %s", site,
        model.arch());
    acts.put(site, q);
  }

  public WeightQuantizer weight(String layer) {
    return weights.get(layer);
  }

  public ActQuantizer act(String site) {
    return acts.get(site);
  }

  /** Weight quantizers in model layer order (layers without one are skipped). */
  public List<Map.Entry<Layer, WeightQuantizer>> weightsInOrder() {
    List<Map.Entry<Layer, WeightQuantizer>> out = new ArrayList<>();
    for (Layer l : model.layers()) {
      WeightQuantizer q = weights.get(l.name());
      if (q != null) {
        out.add(Map.entry(l, q));
      }
    }
    return out;
  }

  /** Activation quantizers in model site order. */
  public List<ActQuantizer> actsInOrder() {
    List<ActQuantizer> out = new ArrayList<>();
    for (String s : model.actSites()) {
      ActQuantizer q = acts.get(s);
      if (q != null) {
        out.add(q);
      }
    }
    return out;
  }
}
