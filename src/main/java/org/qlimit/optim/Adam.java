package org.qlimit.optim;

import java.util.List;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/**
 * Adam (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with PyTorch's
 * update order and bias correction:
 *
 * <pre>
 * m = β1·m + (1 − β1)·g;   v = β2·v + (1 − β2)·g²
 * θ = θ − lr · (m / (1 − β1^t)) / (sqrt(v) / sqrt(1 − β2^t) + ε)
 * </pre>
 *
 * computed per element in float, as torch.optim.Adam does (its single-tensor path). The learning
 * rate is passed to every {@link #step} (schedules are pure functions of the step, see
 * {@link Schedules}); the moment estimates are the optimiser's only state, kept per parameter in
 * the order given at construction.
 *
 * <p>AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), as
 * torch.optim.AdamW: with weight decay λ &gt; 0, each decayed parameter is first multiplied by
 * (1 − lr·λ), then updated as above. λ = 0 (the plain constructor) is Adam, bit for bit.
 */
public final class Adam {
  private final List<Var> params;
  private final float beta1;
  private final float beta2;
  private final float eps;
  private final float[][] m;
  private final float[][] v;
  private final boolean[] decay;
  private final float weightDecay;
  private int t;

  public Adam(List<Var> params, float beta1, float beta2, float eps) {
    this(params, null, beta1, beta2, eps, 0f);
  }

  /**
   * AdamW: decoupled weight decay {@code weightDecay} on the parameters whose {@code decay} flag
   * is true (same order as params; null = none).
   */
  public Adam(List<Var> params, List<Boolean> decay, float beta1, float beta2, float eps,
      float weightDecay) {
    Check.arg(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1 && eps > 0,
        "Adam: bad hyperparameters beta1=%s beta2=%s eps=%s", beta1, beta2, eps);
    this.params = List.copyOf(params);
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    Check.arg(weightDecay >= 0 && Float.isFinite(weightDecay),
        "AdamW: weight decay must be >= 0, got %s", weightDecay);
    Check.arg(decay == null || decay.size() == this.params.size(),
        "AdamW: %s decay flags for %s parameters", decay == null ? 0 : decay.size(),
        this.params.size());
    this.weightDecay = weightDecay;
    this.decay = new boolean[this.params.size()];
    for (int i = 0; i < this.decay.length; i++) {
      this.decay[i] = decay != null && decay.get(i);
    }
    m = new float[this.params.size()][];
    v = new float[this.params.size()][];
    for (int i = 0; i < m.length; i++) {
      Var p = this.params.get(i);
      Check.arg(p.requiresGrad(), "Adam: parameter %s does not require a gradient", p.name());
      m[i] = new float[p.value().numel()];
      v[i] = new float[p.value().numel()];
    }
  }

  /** Adam with PyTorch's defaults β1 = 0.9, β2 = 0.999, ε = 1e-8. */
  public static Adam withDefaults(List<Var> params) {
    return new Adam(params, 0.9f, 0.999f, 1e-8f);
  }

  /** Number of steps taken so far. */
  public int steps() {
    return t;
  }

  /** One update of every parameter with learning rate {@code lr}, then zeroes the gradients. */
  public void step(float lr) {
    t++;
    double bc1 = 1.0 - Math.pow(beta1, t);
    double bc2Sqrt = Math.sqrt(1.0 - Math.pow(beta2, t));
    float stepSize = (float) (lr / bc1);
    for (int i = 0; i < m.length; i++) {
      Var p = params.get(i);
      if (!p.hasGrad()) {
        continue;
      }
      float[] w = p.value().data();
      float[] g = p.grad().data();
      float[] mi = m[i];
      float[] vi = v[i];
      if (weightDecay > 0 && decay[i]) {
        float keep = 1f - lr * weightDecay;
        for (int j = 0; j < w.length; j++) {
          w[j] *= keep;
        }
      }
      for (int j = 0; j < w.length; j++) {
        float gj = g[j];
        mi[j] = beta1 * mi[j] + (1 - beta1) * gj;
        vi[j] = beta2 * vi[j] + (1 - beta2) * gj * gj;
        float denom = (float) (Math.sqrt(vi[j]) / bc2Sqrt) + eps;
        w[j] -= stepSize * mi[j] / denom;
      }
      p.zeroGrad();
    }
  }
}
