package org.qlimit.recon;

import java.util.List;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;

/**
 * What stays at 8 bits (ALGORITHMS.md §5), in one place for reconstruction, the sensitivity
 * measurement and the mixed-precision cost model: the weights of the first and the last layer,
 * the activation sites each method's reference keeps at 8 bits, and the first layer that BRECQ
 * and AdaRound do not reconstruct.
 */
public final class BitWidths {
  private BitWidths() {}

  /** Bits of the weights of the first and last layers and of the activations §5 names. */
  public static final int PINNED_BITS = 8;

  /** Why BRECQ and AdaRound leave the first layer as it is (§5, BRECQ's reference). */
  public static final String FIRST_LAYER_SKIPPED = "first layer: 8-bit weights with nearest "
      + "rounding, not reconstructed";

  /**
   * Whether {@code l}'s weights stay at 8 bits: the first or the last layer of {@code m}; in a
   * sequence model (input shape (L), BERT, §11) the layers of the last unit (pooler and
   * classifier).
   */
  public static boolean pinned(Model m, Layer l) {
    if (isSequenceModel(m)) {
      return m.units().get(m.units().size() - 1).layers().contains(l);
    }
    List<Layer> all = m.layers();
    return l == all.get(0) || l == all.get(all.size() - 1);
  }

  /** Weight bits of a layer: {@link #PINNED_BITS} for the first and last layers, else wbits. */
  public static int weightBits(Model m, Layer l, int wbits) {
    return pinned(m, l) ? PINNED_BITS : wbits;
  }

  /**
   * Activation bits of a site (§5): QDrop keeps the classifier's input (the output site of the
   * unit before the head) at 8 bits. The other methods follow BRECQ's rule: the first layer's
   * output and the penultimate layer's own output quantizer at 8 bits. In ResNets and RegNets
   * the penultimate layer is a block's last conv, which feeds the residual addition and has no
   * site of its own, so only the first layer's output is affected; in MobileNetV2 and MNASNet it
   * is the last 1×1 conv, whose output (the classifier's input) then stays at 8 bits. Everything
   * else uses abits. In a sequence model (§11) the inputs of the pooler and classifier (the last
   * unit's sites) stay at 8 bits for every method.
   */
  public static int actBits(Model m, Method method, String site, int abits) {
    List<Unit> units = m.units();
    if (isSequenceModel(m)) {
      // §11: the inputs of the pooler and classifier at 8 bits, for every method
      return units.get(units.size() - 1).actSites().contains(site) ? PINNED_BITS : abits;
    }
    if (method == Method.QDROP) {
      String feedsHead = units.size() >= 2 ? units.get(units.size() - 2).outputSite() : null;
      return site.equals(feedsHead) ? PINNED_BITS : abits;
    }
    List<Layer> layers = m.layers();
    String first = ownOutputSite(units, layers.get(0));
    String penultimate = layers.size() >= 2 ? ownOutputSite(units, layers.get(layers.size() - 2))
        : null;
    return site.equals(first) || site.equals(penultimate) ? PINNED_BITS : abits;
  }

  /** Whether {@code m} reads token ids (input shape (L)) rather than images. */
  static boolean isSequenceModel(Model m) {
    return m.inputShape().length == 1;
  }

  /**
   * The site that quantizes {@code layer}'s own (activated) output: the output site of a unit
   * made of that layer alone, or a site inside a block named after the layer; null when its
   * output is not quantized directly (e.g. a conv that feeds a residual addition).
   */
  static String ownOutputSite(List<Unit> units, Layer layer) {
    for (Unit u : units) {
      if (u.layers().size() == 1 && u.layers().get(0) == layer) {
        return u.outputSite();
      }
      if (u.layers().contains(layer) && u.actSites().contains(layer.name())) {
        return layer.name();
      }
    }
    return null;
  }
}
