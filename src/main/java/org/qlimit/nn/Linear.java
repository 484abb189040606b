package org.qlimit.nn;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/**
 * Fully connected layer: y = x·Wᵀ + b, weight (Out, In), bias (Out) or null. x is (N, In), or
 * (N, L, In) for a sequence (applied to every position, y (N, L, Out)).
 */
public record Linear(String name, Var weight, Var bias) implements Layer {

  public Linear {
    Check.arg(weight.value().rank() == 2, "%s: linear weight must be 2-D, got %s", name,
        weight.value());
  }

  @Override
  public Var apply(Graph g, Var x, Var w) {
    int[] s = x.shape();
    if (s.length == 3) {
      Var y = Functions.linear(g, Functions.reshape(g, x, s[0] * s[1], s[2]), w, bias);
      return Functions.reshape(g, y, s[0], s[1], w.value().dim(0));
    }
    return Functions.linear(g, x, w, bias);
  }

  @Override
  public long macsPerImage(int inH, int inW) {
    return weight.value().numel();
  }
}
