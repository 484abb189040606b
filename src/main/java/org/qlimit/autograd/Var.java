package org.qlimit.autograd;

import org.qlimit.tensor.Tensor;

/**
 * A value in a computation: a tensor, and, when it requires a gradient, the gradient accumulated
 * by {@link Graph#backward}.
 *
 * <p>Parameters are long-lived Vars with {@code requiresGrad}; their gradient survives across
 * graphs until {@link #zeroGrad()}. Intermediate Vars are created by {@link Functions} and recorded
 * on a {@link Graph}.
 */
public final class Var {
  private final Tensor value;
  private final boolean requiresGrad;
  private final String name;
  private Tensor grad;

  public Var(Tensor value, boolean requiresGrad, String name) {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.name = name;
  }

  /** A constant (no gradient). */
  public static Var constant(Tensor value) {
    return new Var(value, false, null);
  }

  /** A named trainable parameter. */
  public static Var param(String name, Tensor value) {
    return new Var(value, true, name);
  }

  public Tensor value() {
    return value;
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  public String name() {
    return name;
  }

  public int[] shape() {
    return value.shape();
  }

  /** The gradient, allocated (zeros) on first use. */
  public Tensor grad() {
    if (grad == null) {
      grad = Tensor.zeros(value.shape());
    }
    return grad;
  }

  public boolean hasGrad() {
    return grad != null;
  }

  /** Sets the gradient to zero (explicit step between optimiser updates). */
  public void zeroGrad() {
    if (grad != null) {
      grad.fill(0f);
    }
  }

  @Override
  public String toString() {
    return (name == null ? "Var" : name) + value;
  }
}
