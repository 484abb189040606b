package org.qlimit.mixed;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.recon.BitWidths;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The two cost models of ALGORITHMS.md §8 for a per-layer weight bit assignment:
 * <ul>
 *   <li>model size = Σ_l params_l · b_l bits (weights only);</li>
 *   <li>BitOPs = Σ_l MACs_l · b_l · a_l per input (an image, or a sentence of a sequence model),
 *       a_l the bits of the layer's input activation.</li>
 * </ul>
 * The first and the last layer are pinned at 8 bits ({@link BitWidths#pinned}: weights, and
 * 8 · 8 in BitOPs), §5; in a BERT-layout encoder the pooler and the classifier (§11).
 * Activations at 32 bits (not quantized) count 32 in BitOPs. A linear layer applied to every
 * position of a sequence, input (N, L, in), does L · in · out MACs per sentence; the pooler and
 * the classifier read the [CLS] position only, in · out (ALGORITHMS.md §8 and §11). Embedding
 * tables are no layers (lookups, no MACs) and are left out of both costs.
 */
public final class CostModel {
  private final List<LayerCost> layers;

  public CostModel(List<LayerCost> layers) {
    Check.arg(!layers.isEmpty(), "cost model: no layers");
    this.layers = List.copyOf(layers);
  }

  /**
   * Measures every layer of {@code model}: its spatial input size comes from one FP forward pass
   * of a zero image (MACs depend on it), its parameter count from the weight.
   *
   * @throws IllegalArgumentException for a sequence model (input shape (L)): use
   *     {@link #of(Model, Kernels, Tensor)} with a sentence
   */
  public static CostModel of(Model model, Kernels k) {
    int[] in = model.inputShape();
    Check.arg(in.length == 3, "cost model of %s: input shape %s is not (C, H, W); give a probe "
        + "input", model.arch(), java.util.Arrays.toString(in));
    return of(model, k, Tensor.zeros(1, in[0], in[1], in[2]));
  }

  /**
   * Measures every layer of {@code model} from one FP forward pass of {@code probe}, a single
   * input: (1, C, H, W) an image (MACs depend on its spatial size), or (1, L) the token ids of a
   * sentence of L tokens (a layer that sees (1, L, in) counts L · in · out MACs).
   */
  public static CostModel of(Model model, Kernels k, Tensor probe) {
    Check.arg(probe.dim(0) == 1, "cost model probe: expected one input, got %d", probe.dim(0));
    Map<Layer, int[]> inShapes = new LinkedHashMap<>();
    ForwardContext probeCtx = ForwardContext.FP.withLayerInputs(
        (layer, x) -> inShapes.put(layer, x.shape()));
    model.forward(Graph.inference(k), Var.constant(probe), probeCtx);
    List<LayerCost> out = new ArrayList<>();
    for (Unit u : model.units()) {
      for (Layer l : u.layers()) {
        int[] s = inShapes.get(l);
        Check.state(s != null, "layer %s did not run in a forward pass", l.name());
        int h = s.length == 4 ? s[2] : 1;
        int w = s.length == 4 ? s[3] : 1;
        long positions = s.length == 3 ? s[1] : 1; // (N, L, in): one product per position
        boolean pinned = BitWidths.pinned(model, l);
        out.add(new LayerCost(l.name(), u.name(), l.weight().value().numel(),
            l.macsPerImage(h, w) * positions, pinned));
      }
    }
    return new CostModel(out);
  }

  /** All layers in execution order. */
  public List<LayerCost> layers() {
    return layers;
  }

  /** The layers whose bits are searched (not pinned), in execution order. */
  public List<LayerCost> free() {
    List<LayerCost> f = new ArrayList<>();
    for (LayerCost c : layers) {
      if (!c.pinned()) {
        f.add(c);
      }
    }
    return f;
  }

  /** Bits of layer c under an assignment (pinned layers: 8). */
  private static int bitsOf(LayerCost c, Map<String, Integer> bits) {
    if (c.pinned()) {
      return BitWidths.PINNED_BITS;
    }
    Integer b = bits.get(c.layer());
    Check.arg(b != null, "assignment has no bit width for layer %s", c.layer());
    return b;
  }

  /** Model size in bits of the weights under {@code bits} (layer name → weight bits). */
  public long sizeBits(Map<String, Integer> bits) {
    long s = 0;
    for (LayerCost c : layers) {
      s += c.sizeBits(bitsOf(c, bits));
    }
    return s;
  }

  /** BitOPs per input (image or sentence) under {@code bits} with activations at {@code abits} (32 = FP). */
  public long bitOps(Map<String, Integer> bits, int abits) {
    long s = 0;
    for (LayerCost c : layers) {
      s += c.bitOps(bitsOf(c, bits), abits);
    }
    return s;
  }

  /** The same bit width for every free layer. */
  public Map<String, Integer> uniform(int wbits) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (LayerCost c : free()) {
      m.put(c.layer(), wbits);
    }
    return m;
  }

  /** Megabytes (10^6 bytes) from bits. */
  public static double megabytes(long bits) {
    return bits / 8e6;
  }
}
