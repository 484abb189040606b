package org.qlimit.nn;

import java.util.ArrayList;
import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/**
 * A network as a sequence of reconstruction units. The FP weights live in the units' layers and
 * are never modified by quantization.
 *
 * @param arch architecture name (as used on the command line)
 * @param units units in execution order (stem first, classifier head last)
 * @param inputShape (C, H, W) of one input image, or (L) for a sequence model whose input is
 *     (N, L) token ids
 * @param numClasses number of logits
 */
public record Model(String arch, List<Unit> units, int[] inputShape, int numClasses) {

  public Model {
    units = List.copyOf(units);
    Check.arg(!units.isEmpty(), "model %s has no units", arch);
    Check.arg(inputShape.length == 3 || inputShape.length == 1,
        "model %s: input shape must be (C,H,W) or (L)", arch);
    inputShape = inputShape.clone();
  }

  /** Runs units [from, to) on x. */
  public Var forward(Graph g, Var x, ForwardContext ctx, int from, int to) {
    Var h = x;
    for (int i = from; i < to; i++) {
      h = units.get(i).forward(g, h, ctx);
    }
    return h;
  }

  /** Full forward pass: logits. */
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    return forward(g, x, ctx, 0, units.size());
  }

  /** All weighted layers in execution order. */
  public List<Layer> layers() {
    List<Layer> out = new ArrayList<>();
    for (Unit u : units) {
      out.addAll(u.layers());
    }
    return out;
  }

  /** All activation sites in execution order. */
  public List<String> actSites() {
    List<String> out = new ArrayList<>();
    for (Unit u : units) {
      out.addAll(u.actSites());
    }
    return out;
  }

  /** The input shape (without batch) of unit i: (C, H, W), or (L, H+1) inside a BERT model. */
  public int[] unitInputShape(int i) {
    int[] s = inputShape.clone();
    for (int k = 0; k < i; k++) {
      s = units.get(k).outputShape(s);
    }
    return s;
  }

  /**
   * Parameters in declaration order (weights, then biases, per layer), then the units'
   * {@link Unit#extraParameters()} in unit order.
   */
  public List<Var> parameters() {
    List<Var> out = new ArrayList<>();
    for (Layer l : layers()) {
      out.add(l.weight());
      if (l.bias() != null) {
        out.add(l.bias());
      }
    }
    for (Unit u : units) {
      out.addAll(u.extraParameters());
    }
    return out;
  }
}
