package org.qlimit.trace;

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
import org.qlimit.util.Check;

/**
 * The fake-quantized forward pass ({@code QuantContext.full}, float32) seen at its activation
 * sites, as a {@link TraceSource}: at every quantized site the levels
 * q = clamp(⌊x/s⌉ + z, qmin, qmax) of the value x reaching it ({@code FakeQuant.quantize}, the
 * same levels whose (q − z)·s the forward pass passes on), and the logits. Images run in batches
 * of {@code batch}; the result does not depend on the batch size, the thread count or the vector
 * width (qlimit's forward pass does not).
 */
public final class FakeQuantTrace implements TraceSource {
  private final QuantState state;
  private final Kernels kernels;
  private final int batch;

  /**
   * @param state the quantized model. Not modified.
   * @param batch images per forward pass, ≥ 1
   */
  public FakeQuantTrace(QuantState state, Kernels kernels, int batch) {
    Check.arg(batch >= 1, "trace batch must be >= 1, got %d", batch);
    this.state = state;
    this.kernels = kernels;
    this.batch = batch;
  }

  @Override
  public String path() {
    return "fake";
  }

  @Override
  public LinkedHashMap<String, TensorEntry> trace(Tensor images) {
    return TraceSource.inBatches(images, batch, x -> {
      LinkedHashMap<String, TensorEntry> out = new LinkedHashMap<>();
      Tensor logits = run(state, kernels, x, t -> out.put(t.site(), t.entry()), null);
      out.put(LOGITS, TensorEntry.f32(LOGITS, SiteTensor.longs(logits.shape()),
          logits.contiguous().data()));
      return out;
    });
  }

  /**
   * Runs the fake-quantized model on one batch.
   *
   * @param images normalised images (N, C, H, W). Not modified.
   * @param sites receives each quantized site's levels in network order
   * @param unitInputs receives each unit's input (the image for the first unit), or null
   * @return the logits (N, classes)
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
}
