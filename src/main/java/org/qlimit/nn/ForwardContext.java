package org.qlimit.nn;

import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;

/**
 * What a forward pass does at the two places quantization acts: a layer's weight, and an
 * activation site. The full-precision network uses {@link #FP}; quantized networks supply their
 * own context (built by composition in the quant package), so a model's forward code is written
 * once and never modified by quantization.
 */
public interface ForwardContext {

  /** The weight to use for {@code layer}. */
  Var weight(Graph g, Layer layer);

  /**
   * The value to pass on at activation site {@code site} (for example after a ReLU, or after a
   * block's residual addition and activation).
   */
  Var activation(Graph g, String site, Var x);

  /**
   * The embedding table to look token ids up in ({@code name}: the table's parameter name, e.g.
   * {@code bert.embeddings.word_embeddings.weight}; {@code table}: its FP value, (rows, H)). FP
   * contexts return {@code table}; quantized ones an 8-bit copy (ALGORITHMS.md §11).
   */
  default Var embeddingTable(Graph g, String name, Var table) {
    return table;
  }

  /**
   * True when BatchNorm layers that are still present (training from scratch) use batch
   * statistics and update their running averages. False everywhere except in training.
   */
  default boolean batchStatistics() {
    return false;
  }

  /**
   * Called by {@link Layer#forward} with the input each layer receives, before the layer runs.
   * Used to capture layer inputs for layer-wise reconstruction; does nothing by default.
   */
  default void layerInput(Layer layer, Var x) {}

  /**
   * This context, with every layer's input passed to {@code sink} (instead of this context's own
   * {@link #layerInput}); weights, activations and BatchNorm mode are this context's. Used to
   * record layer inputs or their shapes from a forward pass.
   */
  default ForwardContext withLayerInputs(java.util.function.BiConsumer<Layer, Var> sink) {
    ForwardContext base = this;
    return new ForwardContext() {
      @Override
      public Var weight(Graph g, Layer layer) {
        return base.weight(g, layer);
      }

      @Override
      public Var activation(Graph g, String site, Var x) {
        return base.activation(g, site, x);
      }

      @Override
      public Var embeddingTable(Graph g, String name, Var table) {
        return base.embeddingTable(g, name, table);
      }

      @Override
      public boolean batchStatistics() {
        return base.batchStatistics();
      }

      @Override
      public void layerInput(Layer layer, Var x) {
        sink.accept(layer, x);
      }
    };
  }

  /** Full precision: FP weights, activations passed through. */
  ForwardContext FP = new ForwardContext() {
    @Override
    public Var weight(Graph g, Layer layer) {
      return layer.weight();
    }

    @Override
    public Var activation(Graph g, String site, Var x) {
      return x;
    }
  };

  /** Full precision with BatchNorm in training mode (batch statistics). */
  ForwardContext TRAIN = new ForwardContext() {
    @Override
    public Var weight(Graph g, Layer layer) {
      return layer.weight();
    }

    @Override
    public Var activation(Graph g, String site, Var x) {
      return x;
    }

    @Override
    public boolean batchStatistics() {
      return true;
    }
  };
}
