package org.qlimit.nn;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/** Fully connected layer: y = x·Wᵀ + b, weight (Out, In), bias (Out) or null. */
public record Linear(String name, Var weight, Var bias) implements Layer {

  public Linear {
    Check.arg(weight.value().rank() == 2, "%s: linear weight must be 2-D, got %s", name,
        weight.value());
  }

  @Override
  public Var apply(Graph g, Var x, Var w) {
    return Functions.linear(g, x, w, bias);
  }

  @Override
  public long macsPerImage(int inH, int inW) {
    return weight.value().numel();
  }
}
