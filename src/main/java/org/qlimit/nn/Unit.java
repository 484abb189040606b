package org.qlimit.nn;

import java.util.List;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;

/**
 * A reconstruction unit (ALGORITHMS.md §4, §6): a stem or head layer, or a residual / inverted
 * residual block. Units run in sequence to form a {@link Model}.
 */
public interface Unit {
  /** Stable name, e.g. {@code layer2.0} or {@code conv1}. */
  String name();

  /** The unit's weighted layers, in execution order. */
  List<Layer> layers();

  /**
   * The unit's activation sites in execution order; the last one, when {@link #outputSite()} is
   * not null, is the unit's output.
   */
  List<String> actSites();

  /** The site applied to the unit's output, or null when the output is not quantized (logits). */
  String outputSite();

  /** Computes the unit's output. */
  Var forward(Graph g, Var x, ForwardContext ctx);

  /**
   * The parameter-free part of {@link #forward} that comes before the unit's first layer (a
   * classifier head's global average pooling), identity by default. {@code forward(prologue(x))}
   * equals {@code forward(x)}; reconstruction applies it to cached inputs so that the unit's input
   * is its first layer's input, as in the references (QDrop mixes the pooled features).
   */
  default Var prologue(Graph g, Var x) {
    return x;
  }

  /** Output shape (without batch) for an input shape (without batch). */
  int[] outputShape(int[] inputShape);

  /**
   * Trainable parameters that belong to no {@link Layer} and are never quantized (a transformer's
   * embeddings and LayerNorm γ and β), in declaration order; none by default.
   */
  default List<Var> extraParameters() {
    return List.of();
  }

  /** What kind of unit this is (the block type of ALGORITHMS.md §6). */
  String kind();

  /**
   * The activation function applied directly to {@code layer}'s output inside this unit (NONE when
   * the output feeds a residual addition or is linear), used as the target of layer-wise
   * reconstruction.
   */
  Activation activationAfter(Layer layer);
}
