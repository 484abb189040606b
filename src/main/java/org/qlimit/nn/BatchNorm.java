package org.qlimit.nn;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * BatchNorm2d with PyTorch's parameter names ({@code weight}, {@code bias}, {@code running_mean},
 * {@code running_var}) and semantics: in training mode it normalises with batch statistics and
 * updates running averages with momentum (running = (1 − m)·running + m·batch, unbiased batch
 * variance); in eval mode it uses the running statistics.
 *
 * <p>For quantization BatchNorm is folded into the preceding convolution ({@link #fold}).
 */
public final class BatchNorm {
  private final String name;
  private final Var gamma;
  private final Var beta;
  private final Tensor runningMean;
  private final Tensor runningVar;
  private final float eps;
  private final float momentum;

  public BatchNorm(String name, Var gamma, Var beta, Tensor runningMean, Tensor runningVar,
      float eps, float momentum) {
    int c = gamma.value().numel();
    Check.arg(beta.value().numel() == c && runningMean.numel() == c && runningVar.numel() == c,
        "%s: BatchNorm tensors must all have %d elements", name, c);
    this.name = name;
    this.gamma = gamma;
    this.beta = beta;
    this.runningMean = runningMean;
    this.runningVar = runningVar;
    this.eps = eps;
    this.momentum = momentum;
  }

  /** A fresh BatchNorm (γ = 1, β = 0, mean 0, var 1), PyTorch defaults eps 1e-5, momentum 0.1. */
  public static BatchNorm fresh(String name, int channels) {
    return new BatchNorm(name, Var.param(name + ".weight", Tensor.full(1f, channels)),
        Var.param(name + ".bias", Tensor.zeros(channels)), Tensor.zeros(channels),
        Tensor.full(1f, channels), 1e-5f, 0.1f);
  }

  public String name() {
    return name;
  }

  public Var gamma() {
    return gamma;
  }

  public Var beta() {
    return beta;
  }

  public Tensor runningMean() {
    return runningMean;
  }

  public Tensor runningVar() {
    return runningVar;
  }

  public float eps() {
    return eps;
  }

  /**
   * Normalises x (N, C, H, W). With {@code ctx.batchStatistics()} the running statistics are
   * updated (Modified) as a side effect, as in PyTorch's training mode.
   */
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    if (ctx.batchStatistics()) {
      int c = gamma.value().numel();
      float[] bm = new float[c];
      float[] bv = new float[c];
      Var y = Functions.batchNorm2dTrain(g, x, gamma, beta, eps, bm, bv);
      float[] rm = runningMean.data();
      float[] rv = runningVar.data();
      for (int i = 0; i < c; i++) {
        rm[i] = (1 - momentum) * rm[i] + momentum * bm[i];
        rv[i] = (1 - momentum) * rv[i] + momentum * bv[i];
      }
      return y;
    }
    return Functions.batchNorm2dEval(g, x, gamma.value(), beta.value(), runningMean, runningVar,
        eps);
  }

  /**
   * Folds this BatchNorm into the convolution before it: with a = γ/sqrt(var + eps),
   * W'[o] = W[o]·a[o] and b'[o] = (b[o] − mean[o])·a[o] + β[o] (b = 0 when the conv has no bias),
   * computed in double and rounded once to float. Returns a new conv whose weight and bias are
   * constants (folding is for evaluation and quantization; training keeps the BatchNorm); both
   * inputs are Not modified.
   */
  public Conv2d fold(Conv2d conv) {
    Tensor w = conv.weight().value().contiguous();
    int cout = w.dim(0);
    Check.arg(cout == gamma.value().numel(), "fold %s into %s: %d channels vs %d", name,
        conv.name(), gamma.value().numel(), cout);
    int per = w.numel() / cout;
    float[] wd = w.data();
    float[] nw = new float[wd.length];
    float[] nb = new float[cout];
    for (int o = 0; o < cout; o++) {
      double a = gamma.value().get(o) / Math.sqrt((double) runningVar.get(o) + eps);
      for (int i = 0; i < per; i++) {
        nw[o * per + i] = (float) (wd[o * per + i] * a);
      }
      double b0 = conv.bias() == null ? 0.0 : conv.bias().value().get(o);
      nb[o] = (float) ((b0 - runningMean.get(o)) * a + beta.value().get(o));
    }
    return new Conv2d(conv.name(),
        new Var(Tensor.of(nw, w.shape()), false, conv.name() + ".weight"),
        new Var(Tensor.of(nb, cout), false, conv.name() + ".bias"), conv.stride(), conv.pad(),
        conv.groups());
  }
}
