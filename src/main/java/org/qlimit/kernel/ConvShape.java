package org.qlimit.kernel;

import org.qlimit.util.Check;

/**
 * Geometry of a 2-D convolution, NCHW, dilation 1.
 *
 * <pre>
 * x: (n, cin, h, w)   w: (cout, cin/groups, kh, kw)   bias: (cout) or none
 * y: (n, cout, ho, wo) with ho = (h + 2*pad - kh)/stride + 1, wo likewise
 * </pre>
 *
 * Padding is symmetric (the same on all four sides), as in PyTorch's {@code padding=int}.
 */
public record ConvShape(int n, int cin, int h, int w, int cout, int kh, int kw, int stride, int pad,
    int groups) {

  public ConvShape {
    Check.arg(n >= 0 && cin > 0 && h > 0 && w > 0 && cout > 0 && kh > 0 && kw > 0,
        "conv2d: sizes must be positive: n=%d cin=%d h=%d w=%d cout=%d kernel=%dx%d",
        n, cin, h, w, cout, kh, kw);
    Check.arg(stride > 0, "conv2d: stride must be positive, got %d", stride);
    Check.arg(pad >= 0, "conv2d: padding must be >= 0, got %d", pad);
    Check.arg(groups > 0 && cin % groups == 0 && cout % groups == 0,
        "conv2d: groups=%d must divide cin=%d and cout=%d", groups, cin, cout);
    Check.arg(h + 2 * pad >= kh && w + 2 * pad >= kw,
        "conv2d: kernel %dx%d larger than padded input %dx%d", kh, kw, h + 2 * pad, w + 2 * pad);
  }

  public int ho() {
    return (h + 2 * pad - kh) / stride + 1;
  }

  public int wo() {
    return (w + 2 * pad - kw) / stride + 1;
  }

  public int cinPerGroup() {
    return cin / groups;
  }

  public int coutPerGroup() {
    return cout / groups;
  }

  public boolean depthwise() {
    return groups == cin && groups == cout;
  }

  public long inputSize() {
    return (long) n * cin * h * w;
  }

  public long weightSize() {
    return (long) cout * (cin / groups) * kh * kw;
  }

  public long outputSize() {
    return (long) n * cout * ho() * wo();
  }

  /** Multiply-accumulates of one forward pass. */
  public long macs() {
    return (long) n * cout * ho() * wo() * (cin / groups) * kh * kw;
  }

  public ConvShape withBatch(int batch) {
    return new ConvShape(batch, cin, h, w, cout, kh, kw, stride, pad, groups);
  }
}
