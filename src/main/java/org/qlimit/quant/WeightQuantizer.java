package org.qlimit.quant;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.Layer;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * How one layer's weight is quantized: a fixed integer weight (nearest rounding, or AdaRound after
 * hardening), or AdaRound's learnable soft rounding during reconstruction.
 */
public sealed interface WeightQuantizer permits WeightQuantizer.Fixed, WeightQuantizer.AdaRoundSoft {

  /** The quantization parameters (per output channel). */
  QParams params();

  /** The weight to use in a forward pass. */
  Var weight(Graph g);

  /** Integer levels and the fake-quantized weight, fixed. */
  record Fixed(QParams params, int[] levels, Var fakeQuant) implements WeightQuantizer {
    /** Nearest rounding of the layer's FP weight: q = clamp(⌊W/s⌉ + z, qmin, qmax). */
    public static Fixed nearest(Layer layer, QParams p) {
      float[] w = layer.weight().value().contiguous().data();
      int cs = layer.channelSize();
      int[] q = new int[w.length];
      FakeQuant.quantize(q, w, p, cs);
      float[] fq = new float[w.length];
      FakeQuant.fakeQuant(fq, w, p, cs);
      return new Fixed(p, q, Var.constant(Tensor.of(fq, layer.weight().shape())));
    }

    /**
     * A fixed weight from its integer levels (e.g. read back from a file): the fake-quantized
     * weight is (q − z)·s in float32, the same bits as nearest or hardened AdaRound rounding give.
     *
     * @param levels q per weight element, in [qmin, qmax]. Not modified (copied).
     */
    public static Fixed fromLevels(Layer layer, QParams p, int[] levels) {
      int n = layer.weight().value().numel();
      Check.arg(levels.length == n, "layer %s: %d integer levels for %d weights", layer.name(),
          levels.length, n);
      Check.arg(p.channels() == layer.outChannels(), "layer %s: %d scales for %d output channels",
          layer.name(), p.channels(), layer.outChannels());
      int cs = layer.channelSize();
      int qmin = p.scheme().qmin();
      int qmax = p.scheme().qmax();
      float[] fq = new float[n];
      for (int c = 0; c < p.channels(); c++) {
        float s = p.scale(c);
        float z = p.zeroPoint(c);
        for (int i = c * cs; i < (c + 1) * cs; i++) {
          Check.arg(levels[i] >= qmin && levels[i] <= qmax,
              "layer %s: level %d at element %d is outside [%d, %d]", layer.name(), levels[i], i,
              qmin, qmax);
          fq[i] = ((float) levels[i] - z) * s;
        }
      }
      return new Fixed(p, levels.clone(), Var.constant(Tensor.of(fq, layer.weight().shape())));
    }

    @Override
    public Var weight(Graph g) {
      return fakeQuant;
    }
  }

  /**
   * AdaRound's soft rounding: Ŵ = s·(clamp(⌊W/s⌋ + h(α) + z, qmin, qmax) − z), α learnable
   * (ALGORITHMS.md §3), initialised so that h(α) equals the fractional part of W/s.
   */
  record AdaRoundSoft(Layer layer, QParams params, Var alpha, Rectified rectified)
      implements WeightQuantizer {

    public AdaRoundSoft(Layer layer, QParams params, Var alpha) {
      this(layer, params, alpha, new Rectified(alpha.value().numel()));
    }

    public static AdaRoundSoft init(Layer layer, QParams p) {
      float[] w = layer.weight().value().contiguous().data();
      float[] a = new float[w.length];
      AdaRound.initAlpha(a, w, p, layer.channelSize());
      return new AdaRoundSoft(layer, p,
          Var.param(layer.name() + ".alpha", Tensor.of(a, layer.weight().shape())));
    }

    @Override
    public Var weight(Graph g) {
      float[] w = layer.weight().value().contiguous().data();
      float[] a = alpha.value().data();
      int cs = layer.channelSize();
      Rectified r = rectified.of(g, a);
      Tensor out = Tensor.zeros(layer.weight().shape());
      AdaRound.softWeightH(out.data(), w, r.h, params, cs);
      return Functions.custom(g, "adaRoundSoft", out, new Var[] {alpha},
          dy -> AdaRound.softWeightBackwardH(alpha.grad().data(), dy.data(), w, r.h, r.dh,
              params, cs));
    }

    /** Hard rounding: h replaced by [α ≥ 0]; the final integer weight. */
    public Fixed harden() {
      float[] w = layer.weight().value().contiguous().data();
      float[] a = alpha.value().data();
      int cs = layer.channelSize();
      float[] fq = new float[w.length];
      AdaRound.hardWeight(fq, w, a, params, cs);
      int[] q = new int[w.length];
      for (int c = 0; c < params.channels(); c++) {
        float s = params.scale(c);
        float z = params.zeroPoint(c);
        for (int i = c * cs; i < (c + 1) * cs; i++) {
          float u = (float) Math.floor(w[i] / s) + (a[i] >= 0f ? 1f : 0f) + z;
          q[i] = (int) Math.min(Math.max(u, params.scheme().qmin()), params.scheme().qmax());
        }
      }
      return new Fixed(params, q, Var.constant(Tensor.of(fq, layer.weight().shape())));
    }

    /**
     * The rounding regulariser λ Σ (1 − |2h(α) − 1|^β) as a scalar Var with its gradient to α.
     */
    public Var regularizer(Graph g, double lambda, double beta) {
      float[] a = alpha.value().data();
      Rectified r = rectified.of(g, a);
      // the bits of AdaRound.regularizerH and regularizerBackwardH (StrictMath.pow terms)
      Kernels k = g.kernels();
      float v = k.roundingRegularizer(r.h, a.length, lambda, beta);
      return Functions.custom(g, "roundingRegularizer", Tensor.scalar(v), new Var[] {alpha},
          dy -> k.roundingRegularizerGrad(alpha.grad().data(), r.h, r.dh, a.length, lambda,
              beta, dy.data()[0]));
    }
  }

  /**
   * h(α) and dh/dα of one AdaRound layer for one graph (one iteration), computed once by
   * {@link AdaRound#rectify} and shared by the soft weight, its backward and the regulariser.
   * α must not change while a graph is in use (the optimiser steps after the backward pass);
   * a new graph recomputes. Buffers are reused across iterations.
   */
  final class Rectified {
    final float[] h;
    final double[] dh;
    private Graph graph;

    Rectified(int n) {
      h = new float[n];
      dh = new double[n];
    }

    Rectified of(Graph g, float[] alpha) {
      if (graph != g) {
        AdaRound.rectify(h, dh, alpha, alpha.length, g.kernels().config().threads());
        graph = g;
      }
      return this;
    }
  }
}
