package org.qlimit.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * A checkpoint whose convolutions carry a bias before BatchNorm (PyTorch {@code Conv2d} with
 * {@code bias=True}) loads, and the bias is folded: b' = (b − running_mean)·γ/√(var + eps) + β.
 * Checked two ways on the embedded ResNet-20 (64 test images): a bias compensated by shifting
 * {@code running_mean} by the same amount gives the original network's logits, and an
 * uncompensated bias gives, folded, the logits of the unfolded network (conv + bias, then
 * BatchNorm with running statistics).
 */
class ConvBiasBeforeBatchNormTest extends QuietTest {
  private static final Kernels K = Kernels.of(NumericsConfig.defaults().withThreads(1));
  private static final Path MODEL = Path.of("datasets/models/resnet20_fmnist.safetensors");
  private static final String[] CONVS = {"conv1", "layer2.1.conv1", "layer3.0.conv2"};
  private static final String[] BNS = {"bn1", "layer2.1.bn1", "layer3.0.bn2"};

  /** The embedded checkpoint with bias b[o] = 0.05·(o mod 7 − 3) + 0.01 on {@link #CONVS}. */
  private static StateDict withConvBias(boolean shiftRunningMean) throws Exception {
    StateDict src = Checkpoints.read(MODEL);
    StateDict sd = new StateDict("biased");
    for (String n : src.names()) {
      Tensor t = src.asMap().get(n).copy();
      for (int i = 0; i < CONVS.length; i++) {
        if (shiftRunningMean && n.equals(BNS[i] + ".running_mean")) {
          float[] m = t.data();
          for (int o = 0; o < m.length; o++) {
            m[o] += bias(o);
          }
        }
      }
      sd.put(n, t);
      for (String c : CONVS) {
        if (n.equals(c + ".weight")) {
          int cout = t.dim(0);
          float[] b = new float[cout];
          for (int o = 0; o < cout; o++) {
            b[o] = bias(o);
          }
          sd.put(c + ".bias", Tensor.of(b, cout));
        }
      }
    }
    return sd;
  }

  private static float bias(int o) {
    return 0.05f * (o % 7 - 3) + 0.01f;
  }

  private static Tensor logits(Model m) throws Exception {
    LabeledImages test = Datasets.load("fashion-mnist", null).test();
    return Evaluator.logits(m, ForwardContext.FP, K, test, Normalization.FASHION_MNIST, 0, 64);
  }

  private static double maxAbsDiff(Tensor a, Tensor b) {
    float[] x = a.contiguous().data();
    float[] y = b.contiguous().data();
    assertThat(x).hasSameSizeAs(y);
    double m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs((double) x[i] - y[i]));
    }
    return m;
  }

  @Test
  void compensatedBiasGivesTheOriginalLogits() throws Exception {
    Architectures.Spec spec = Architectures.get("resnet20-fmnist");
    Tensor expected = logits(Architectures.load("resnet20-fmnist", MODEL));
    Tensor got = logits(spec.build(withConvBias(true), true));
    double d = maxAbsDiff(got, expected);
    assertThat(d).as("max |logit − original| = %s", d).isLessThanOrEqualTo(1e-4);
  }

  @Test
  void foldedBiasMatchesTheUnfoldedForward() throws Exception {
    Architectures.Spec spec = Architectures.get("resnet20-fmnist");
    Tensor original = logits(Architectures.load("resnet20-fmnist", MODEL));
    Tensor unfolded = logits(spec.build(withConvBias(false), false));
    Tensor folded = logits(spec.build(withConvBias(false), true));
    double d = maxAbsDiff(folded, unfolded);
    assertThat(d).as("max |folded − unfolded| = %s", d).isLessThanOrEqualTo(1e-4);
    // the bias is not ignored: without compensation the logits move
    assertThat(maxAbsDiff(folded, original)).isGreaterThan(1e-2);
  }
}
