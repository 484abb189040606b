package org.qlimit.nn;

import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;

/**
 * A layer with a weight that quantization acts on: a convolution or a fully connected layer.
 * The weight's axis 0 is the output channel (the per-channel quantization axis).
 */
public sealed interface Layer permits Conv2d, Linear {
  /** Stable PyTorch-style name, e.g. {@code layer1.0.conv1}. */
  String name();

  Var weight();

  /** The bias, or null. */
  Var bias();

  /** Output channels (weight axis 0). */
  default int outChannels() {
    return weight().value().dim(0);
  }

  /** Elements of the weight per output channel. */
  default int channelSize() {
    return weight().value().numel() / outChannels();
  }

  /**
   * Applies the layer with the given effective weight (the FP weight, or a quantized one chosen by
   * a {@link ForwardContext}).
   */
  Var apply(Graph g, Var x, Var effectiveWeight);

  /** Multiply-accumulates per input image for an input of the given spatial size. */
  long macsPerImage(int inH, int inW);

  /** Applies the layer with the weight that {@code ctx} selects. */
  default Var forward(Graph g, Var x, ForwardContext ctx) {
    ctx.layerInput(this, x);
    return apply(g, x, ctx.weight(g, this));
  }
}
