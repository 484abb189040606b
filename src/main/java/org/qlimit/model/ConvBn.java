package org.qlimit.model;

import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.BatchNorm;
import org.qlimit.nn.Conv2d;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;

/**
 * A convolution followed by an optional BatchNorm. After {@link #folded()} the BatchNorm is merged
 * into the convolution's weight and bias, which is the form quantization works on.
 */
public record ConvBn(Conv2d conv, BatchNorm bn) {

  public Var forward(Graph g, Var x, ForwardContext ctx) {
    Var y = conv.forward(g, x, ctx);
    return bn == null ? y : bn.forward(g, y, ctx);
  }

  public ConvBn folded() {
    return bn == null ? this : new ConvBn(bn.fold(conv), null);
  }

  /**
   * Loads {@code convName.weight} (and {@code convName.bias} when {@code convBias}) and, when
   * {@code bnName} is not null, the BatchNorm tensors {@code bnName.weight/bias/running_mean/
   * running_var}.
   *
   * <p>A convolution followed by BatchNorm may carry a bias in the checkpoint even where the
   * architecture has none (PyTorch's {@code Conv2d(..., bias=True)} before {@code BatchNorm2d}):
   * it is loaded and kept, so the model computes BN(conv(x) + b) exactly as the checkpoint's
   * network does, and {@link #folded()} merges it into the folded bias,
   * b' = (b − running_mean)·γ/√(running_var + eps) + β ({@link BatchNorm#fold}). In training mode
   * the batch mean removes b, as in PyTorch.
   */
  public static ConvBn load(StateDict sd, String convName, String bnName, int cin, int cout,
      int k, int stride, int pad, int groups, boolean convBias) {
    Tensor w = sd.take(convName + ".weight", cout, cin / groups, k, k);
    boolean hasBias = convBias || (bnName != null && sd.has(convName + ".bias"));
    Var b = hasBias ? Var.param(convName + ".bias", sd.take(convName + ".bias", cout)) : null;
    Conv2d conv = new Conv2d(convName, Var.param(convName + ".weight", w), b, stride, pad, groups);
    BatchNorm bn = null;
    if (bnName != null) {
      bn = new BatchNorm(bnName, Var.param(bnName + ".weight", sd.take(bnName + ".weight", cout)),
          Var.param(bnName + ".bias", sd.take(bnName + ".bias", cout)),
          sd.take(bnName + ".running_mean", cout), sd.take(bnName + ".running_var", cout), 1e-5f,
          0.1f);
    }
    return new ConvBn(conv, bn);
  }

  static double gaussian(java.util.SplittableRandom rng) {
    // Box-Muller with StrictMath: reproducible on every JDK.
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2 * StrictMath.PI * u2);
  }
}
