package org.qlimit.quant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Layer;
import org.qlimit.tensor.Tensor;
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
  private final Map<String, Var> tables = new LinkedHashMap<>();

  /** Bits of the embedding tables of sequence models, for every method (ALGORITHMS.md §11). */
  public static final int EMBEDDING_BITS = 8;

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

  /**
   * The quantized copy of embedding table {@code name} (FP value {@code table}, (rows, H)):
   * per tensor, symmetric, {@link #EMBEDDING_BITS} bits, range max |w| (the §1 min-max rule on
   * the symmetric grid), nearest rounding, for every method (ALGORITHMS.md §11; Q8BERT, Zafrir et
   * al. 2019, and I-BERT, Kim et al. 2021, quantize embeddings per tensor, symmetric, at 8 bits).
   * Computed once per table and kept; a constant (no gradient).
   *
   * @throws IllegalArgumentException naming the table if it holds a NaN or an infinity
   */
  public Var embeddingTable(String name, Var table) {
    Var q = tables.get(name);
    if (q == null || q.value().numel() != table.value().numel()) {
      q = Var.constant(quantizeTable(name, table.value()));
      tables.put(name, q);
    }
    return q;
  }

  /** {@link #embeddingTable}'s rounding of {@code w}, a new tensor of w's shape. */
  static Tensor quantizeTable(String name, Tensor w) {
    float[] x = w.contiguous().data();
    for (int i = 0; i < x.length; i++) {
      Check.arg(Float.isFinite(x[i]), "embedding table %s: element %d is %s", name, i, x[i]);
    }
    QParams p = Observers.minMax(x, 1, QScheme.symmetric(EMBEDDING_BITS));
    float[] y = new float[x.length];
    FakeQuant.fakeQuant(y, x, p, x.length);
    return Tensor.of(y, w.shape());
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
