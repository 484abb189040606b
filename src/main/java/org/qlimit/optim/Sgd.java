package org.qlimit.optim;

import java.util.List;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/**
 * SGD with momentum, optional Nesterov, and L2 weight decay, in PyTorch's formulation:
 * g = g + wd·θ; buf = μ·buf + g (buf = g at the first step); step = nesterov ? g + μ·buf : buf;
 * θ = θ − lr·step.
 */
public final class Sgd {
  private final List<Var> params;
  private final List<Boolean> decay;
  private final float momentum;
  private final float weightDecay;
  private final boolean nesterov;
  private final float[][] buf;
  private boolean first = true;

  /**
   * @param decay per parameter: whether weight decay applies (PyTorch applies it to all by default)
   */
  public Sgd(List<Var> params, List<Boolean> decay, float momentum, float weightDecay,
      boolean nesterov) {
    Check.arg(params.size() == decay.size(), "Sgd: %d params, %d decay flags", params.size(),
        decay.size());
    Check.arg(momentum >= 0 && weightDecay >= 0, "Sgd: negative momentum or weight decay");
    this.params = List.copyOf(params);
    this.decay = List.copyOf(decay);
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.nesterov = nesterov;
    buf = new float[params.size()][];
    for (int i = 0; i < buf.length; i++) {
      buf[i] = new float[params.get(i).value().numel()];
    }
  }

  /** One update with learning rate lr, then zeroes the gradients. */
  public void step(float lr) {
    for (int i = 0; i < buf.length; i++) {
      Var p = params.get(i);
      float[] w = p.value().data();
      float[] g = p.grad().data();
      float[] b = buf[i];
      float wd = decay.get(i) ? weightDecay : 0f;
      for (int j = 0; j < w.length; j++) {
        float gj = g[j] + wd * w[j];
        b[j] = first ? gj : momentum * b[j] + gj;
        float s = nesterov ? gj + momentum * b[j] : b[j];
        w[j] -= lr * s;
      }
      p.zeroGrad();
    }
    first = false;
  }
}
