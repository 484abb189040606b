package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantContext;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * BRECQ's Fisher factors a = |g| + 1 ({@link FisherWeights}) against the gradient written out
 * in double: at the logits g = (softmax(z_q) − softmax(z_fp)) / B, and at the last block's
 * output through the classifier head (global average pooling, then W) g = Wᵀ(q − p) / (B·H·W);
 * the last, partial batch keeps the 1/B of full ones.
 */
class FisherWeightsTest extends QuietTest {
  private static final Kernels K = Kernels.of(new NumericsConfig(256, 1));
  private static final int B = 4;
  private static final int N = 6;  // one full batch of 4 and a partial one of 2
  private static Model model;
  private static Tensor images;
  private static QuantContext quantized;

  @BeforeAll
  static void load() throws Exception {
    model = Embedded.resnet20();
    images = Embedded.calibration(N);
    QuantState s = new QuantState(model);
    for (Layer l : model.layers()) {
      s.setWeight(l, WeightQuantizer.Fixed.nearest(l,
          Reconstructor.observeWeight(K, Method.BRECQ, l, QScheme.asymmetric(2))));
    }
    quantized = QuantContext.weightsOnly(s);
  }

  private static double[] softmax(float[] z, int row, int c) {
    double m = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < c; j++) {
      m = Math.max(m, z[row * c + j]);
    }
    double[] p = new double[c];
    double sum = 0;
    for (int j = 0; j < c; j++) {
      p[j] = Math.exp(z[row * c + j] - m);
      sum += p[j];
    }
    for (int j = 0; j < c; j++) {
      p[j] /= sum;
    }
    return p;
  }

  private static float[] logits(ForwardContext ctx) {
    return model.forward(Graph.inference(K), Var.constant(images), ctx).value().contiguous()
        .data();
  }

  @Test
  void atTheLogits() {
    Unit net = Granularity.NET.partition(model, false).get(0);
    ActivationCache in = ActivationCache.of(images);
    Tensor fp = FisherWeights.fpLogits(K, model, in);
    ActivationCache a = FisherWeights.compute(K, CacheStore.HEAP, model, net,
        model.units().size() - 1, in, quantized, fp, B);
    float[] zq = logits(quantized);
    float[] zf = fp.data();
    int c = model.numClasses();
    float[] got = a.rows(0, N).data();
    double worst = 0;
    boolean someAboveOne = false;
    for (int n = 0; n < N; n++) {
      double[] q = softmax(zq, n, c);
      double[] p = softmax(zf, n, c);
      for (int j = 0; j < c; j++) {
        double want = Math.abs((q[j] - p[j]) / B) + 1;
        worst = Math.max(worst, Math.abs(got[n * c + j] - want));
        someAboveOne |= got[n * c + j] > 1.001f;
      }
    }
    assertThat(worst).isLessThan(2e-6);
    assertThat(someAboveOne).as("2-bit weights move the predictions").isTrue();
  }

  @Test
  void atTheLastBlockThroughTheHead() {
    List<Unit> units = model.units();
    int last = units.size() - 2;  // layer3.2; the head follows
    Unit body = UnitGroup.of("net", units.subList(0, last + 1));
    ActivationCache in = ActivationCache.of(images);
    Tensor fp = FisherWeights.fpLogits(K, model, in);
    ActivationCache a = FisherWeights.compute(K, CacheStore.HEAP, model, body, last, in,
        quantized, fp, B);
    Tensor y = body.forward(Graph.inference(K), Var.constant(images), quantized).value()
        .contiguous();
    int ch = y.dim(1);
    int hw = y.dim(2) * y.dim(3);
    Layer fc = model.layers().get(model.layers().size() - 1);
    float[] w = fc.weight().value().contiguous().data();  // (classes, ch), FP after the unit
    float[] zq = units.get(last + 1).forward(Graph.inference(K), Var.constant(y),
        ForwardContext.FP).value().contiguous().data();
    float[] zf = fp.data();
    int c = model.numClasses();
    float[] got = a.rows(0, N).data();
    double worst = 0;
    for (int n = 0; n < N; n++) {
      double[] q = softmax(zq, n, c);
      double[] p = softmax(zf, n, c);
      for (int k = 0; k < ch; k++) {
        double g = 0;
        for (int j = 0; j < c; j++) {
          g += (double) w[j * ch + k] * (q[j] - p[j]);
        }
        double want = Math.abs(g / B / hw) + 1;
        for (int e = 0; e < hw; e++) {
          worst = Math.max(worst, Math.abs(got[(n * ch + k) * hw + e] - want));
        }
      }
    }
    assertThat(worst).isLessThan(2e-6);
  }
}
