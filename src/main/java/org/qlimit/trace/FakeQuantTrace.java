package org.qlimit.trace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.FakeQuant;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The fake-quantized forward pass ({@code QuantContext.full}) as a {@link TraceSource}: at every
 * quantized site the levels q = clamp(⌊x/s⌉ + z, qmin, qmax) of the value x reaching it
 * ({@code FakeQuant.quantize}, the same levels whose (q − z)·s the forward pass passes on), and
 * the logits. Images run in batches of {@code batch}; the result does not depend on the thread
 * count or the vector width (qlimit's forward pass does not).
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
    Check.arg(images.rank() == 4, "trace: images must be (N, C, H, W), got rank %d",
        images.rank());
    int n = images.dim(0);
    int per = images.numel() / Math.max(n, 1);
    float[] all = images.contiguous().data();
    LinkedHashMap<String, List<int[]>> sites = new LinkedHashMap<>();
    LinkedHashMap<String, int[]> shapes = new LinkedHashMap<>();
    for (String s : state.model().actSites()) {
      if (state.act(s) != null) {
        sites.put(s, new ArrayList<>());
      }
    }
    List<float[]> logits = new ArrayList<>();
    int classes = state.model().numClasses();
    int[] in = images.shape();
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      float[] xb = java.util.Arrays.copyOfRange(all, from * per, to * per);
      Tensor x = Tensor.of(xb, to - from, in[1], in[2], in[3]);
      ForwardContext ctx = new Recording(QuantContext.full(state), sites, shapes);
      Var y = state.model().forward(Graph.inference(kernels), Var.constant(x), ctx);
      logits.add(y.value().contiguous().data());
    }
    LinkedHashMap<String, TensorEntry> out = new LinkedHashMap<>();
    for (var e : sites.entrySet()) {
      int[] shape = shapes.get(e.getKey());
      Check.state(shape != null, "trace: site %s was not reached by the forward pass",
          e.getKey());
      long[] full = new long[shape.length];
      full[0] = n;
      for (int i = 1; i < shape.length; i++) {
        full[i] = shape[i];
      }
      out.put(e.getKey(), TensorEntry.i32(e.getKey(), full, concat(e.getValue())));
    }
    float[] lg = new float[n * classes];
    int off = 0;
    for (float[] b : logits) {
      System.arraycopy(b, 0, lg, off, b.length);
      off += b.length;
    }
    out.put(LOGITS, TensorEntry.f32(LOGITS, new long[] {n, classes}, lg));
    return out;
  }

  private static int[] concat(List<int[]> parts) {
    int len = 0;
    for (int[] p : parts) {
      len += p.length;
    }
    int[] out = new int[len];
    int off = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, off, p.length);
      off += p.length;
    }
    return out;
  }

  /** {@link QuantContext#full} that also keeps the levels at every quantized site. */
  private static final class Recording implements ForwardContext {
    private final QuantContext base;
    private final LinkedHashMap<String, List<int[]>> sites;
    private final LinkedHashMap<String, int[]> shapes;

    Recording(QuantContext base, LinkedHashMap<String, List<int[]>> sites,
        LinkedHashMap<String, int[]> shapes) {
      this.base = base;
      this.sites = sites;
      this.shapes = shapes;
    }

    @Override
    public Var weight(Graph g, Layer layer) {
      return base.weight(g, layer);
    }

    @Override
    public Var activation(Graph g, String site, Var x) {
      ActQuantizer a = base.state().act(site);
      if (a != null) {
        float[] v = x.value().contiguous().data();
        QParams p = a.params();
        int[] q = new int[v.length];
        FakeQuant.quantize(q, v, p, v.length);
        sites.get(site).add(q);
        shapes.put(site, x.shape());
      }
      return base.activation(g, site, x);
    }
  }
}
