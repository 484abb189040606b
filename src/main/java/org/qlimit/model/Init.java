package org.qlimit.model;

import java.util.SplittableRandom;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;

/**
 * Weight initialisation for training from scratch, writing into a state dict under PyTorch names.
 * Every draw comes from the caller's seeded stream (Box-Muller and uniform draws with StrictMath).
 */
public final class Init {
  private Init() {}

  /** Kaiming-normal, mode fan_out, ReLU gain: std = sqrt(2 / (Cout·k·k)), as torchvision. */
  public static void kaimingConv(StateDict sd, String name, int cin, int cout, int k, int groups,
      SplittableRandom rng) {
    int per = cin / groups * k * k;
    float[] w = new float[cout * per];
    double std = Math.sqrt(2.0 / ((double) cout * k * k));
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (ConvBn.gaussian(rng) * std);
    }
    sd.put(name + ".weight", Tensor.of(w, cout, cin / groups, k, k));
  }

  /** BatchNorm γ = 1, β = 0, running mean 0, running var 1. */
  public static void batchNorm(StateDict sd, String name, int c) {
    sd.put(name + ".weight", Tensor.full(1f, c));
    sd.put(name + ".bias", Tensor.zeros(c));
    sd.put(name + ".running_mean", Tensor.zeros(c));
    sd.put(name + ".running_var", Tensor.full(1f, c));
  }

  /** PyTorch's default linear init: U(−1/sqrt(in), 1/sqrt(in)) for weight and bias. */
  public static void linear(StateDict sd, String name, int in, int out, SplittableRandom rng) {
    double bound = 1.0 / Math.sqrt(in);
    float[] w = new float[out * in];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }
    float[] b = new float[out];
    for (int i = 0; i < out; i++) {
      b[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
    }
    sd.put(name + ".weight", Tensor.of(w, out, in));
    sd.put(name + ".bias", Tensor.of(b, out));
  }
}
