package org.qlimit.integer;

import java.util.LinkedHashMap;
import java.util.function.Consumer;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.FakeQuant;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;

/**
 * The fake-quantized path (qlimit's own forward pass of a quantized model, float32) seen at its
 * activation sites: at each site, the integer levels q = clamp(⌊x/s⌉ + z, qmin, qmax) that its
 * quantizer computes from the site's input x, the same quantity {@link IntegerNetwork} produces
 * there.
 */
public final class FakeQuantPath {
  private FakeQuantPath() {}

  /**
   * Runs the fake-quantized model on a batch.
   *
   * @param images normalised images (N, C, H, W). Not modified.
   * @param sites receives each quantized site's levels in network order
   * @return the logits (N, classes)
   */
  public static Tensor run(QuantState state, Kernels k, Tensor images, Consumer<SiteTensor> sites) {
    return run(state, k, images, sites, null);
  }

  /**
   * {@link #run(QuantState, Kernels, Tensor, Consumer)}, also passing each unit's input (the
   * image for the first unit) to {@code unitInputs} when it is not null.
   */
  public static Tensor run(QuantState state, Kernels k, Tensor images, Consumer<SiteTensor> sites,
      Consumer<Tensor> unitInputs) {
    QuantContext base = QuantContext.full(state);
    ForwardContext ctx = new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        return base.weight(g, layer);
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        ActQuantizer q = state.act(site);
        if (q != null) {
          Tensor v = x.value().contiguous();
          int[] levels = new int[v.numel()];
          FakeQuant.quantize(levels, v.data(), q.params(), v.numel());
          sites.accept(new SiteTensor(site, v.shape(), levels));
        }
        return base.activation(g, site, x);
      }
    };
    Graph g = Graph.inference(k);
    Var h = Var.constant(images);
    for (Unit u : state.model().units()) {
      if (unitInputs != null) {
        unitInputs.accept(h.value());
      }
      h = u.forward(g, h, ctx);
    }
    return h.value();
  }

  /**
   * The fake-quantized path's trace, named and ordered as {@link IntegerNetwork#trace}: every
   * quantized site's levels (I32, N×C×H×W), then {@code logits} (F32, N×classes).
   */
  public static LinkedHashMap<String, TensorEntry> trace(QuantState state, Kernels k,
      Tensor images) {
    LinkedHashMap<String, TensorEntry> out = new LinkedHashMap<>();
    Tensor logits = run(state, k, images, t -> out.put(t.site(), IntegerNetwork.entry(t)));
    out.put(IntegerNetwork.LOGITS, TensorEntry.f32(IntegerNetwork.LOGITS,
        IntegerNetwork.longs(logits.shape()), logits.contiguous().data()));
    return out;
  }
}
