package org.qlimit.nn;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;

/** Activation functions used between layers. */
public enum Activation {
  NONE, RELU, RELU6;

  public Var apply(Graph g, Var x) {
    return switch (this) {
      case NONE -> x;
      case RELU -> Functions.relu(g, x);
      case RELU6 -> Functions.relu6(g, x);
    };
  }
}
