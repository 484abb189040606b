package org.qlimit.nn;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.util.Check;

/**
 * 2-D convolution, NCHW. weight: (Cout, Cin/groups, kH, kW); bias: (Cout) or null.
 * BatchNorm is folded into weight and bias before any quantization (see {@link BatchNorm}).
 */
public record Conv2d(String name, Var weight, Var bias, int stride, int pad, int groups)
    implements Layer {

  public Conv2d {
    Check.arg(weight.value().rank() == 4, "%s: conv weight must be 4-D, got %s", name,
        weight.value());
    Check.arg(stride > 0 && pad >= 0 && groups > 0, "%s: bad stride/pad/groups %d/%d/%d", name,
        stride, pad, groups);
  }

  @Override
  public Var apply(Graph g, Var x, Var w) {
    return Functions.conv2d(g, x, w, bias, stride, pad, groups);
  }

  public int kernelH() {
    return weight.value().dim(2);
  }

  public int kernelW() {
    return weight.value().dim(3);
  }

  public int inChannels() {
    return weight.value().dim(1) * groups;
  }

  public int outH(int inH) {
    return (inH + 2 * pad - kernelH()) / stride + 1;
  }

  public int outW(int inW) {
    return (inW + 2 * pad - kernelW()) / stride + 1;
  }

  @Override
  public long macsPerImage(int inH, int inW) {
    return (long) outH(inH) * outW(inW) * weight.value().numel();
  }
}
