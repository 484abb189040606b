package org.qlimit.integer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;
import org.qlimit.data.Normalization;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.ConvShape;
import org.qlimit.kernel.FixedPoint;
import org.qlimit.kernel.IntKernels;
import org.qlimit.model.BasicBlock;
import org.qlimit.model.Bottleneck;
import org.qlimit.model.ConvBn;
import org.qlimit.model.ConvUnit;
import org.qlimit.model.Head;
import org.qlimit.model.InvertedResidual;
import org.qlimit.model.PooledConvUnit;
import org.qlimit.model.RegNetBlock;
import org.qlimit.nn.Activation;
import org.qlimit.nn.Conv2d;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.FakeQuant;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.tensor.Tensor;
import org.qlimit.trace.SiteTensor;
import org.qlimit.trace.TraceSource;
import org.qlimit.util.Check;

/**
 * A quantized model compiled to the integer reference path of docs/INTEGER.md, and its forward
 * pass. Immutable once compiled; {@link #run} may be called from any thread.
 *
 * <p>What runs (§ numbers of docs/INTEGER.md):
 * <ul>
 *   <li>§1 the input image, normalised float32 (N, C, H, W), is quantized once at 8 bits
 *       ({@link #inputParams});
 *   <li>§2 every convolution and the classifier accumulate Σ (q_w − z_w)(q_x − z_x) in int32 from
 *       an int32 bias ⌊b / (s_w·s_x)⌉;
 *   <li>§3 each accumulator goes to the next activation site by a fixed-point multiplier
 *       s_w·s_x/s_y ({@link FixedPoint}) and the site's zero point, ReLU and ReLU6 being the clamp
 *       bounds;
 *   <li>§4 residual additions rescale both branches to 2^−16 of the output step, add in int64 and
 *       round once more;
 *   <li>§5 max pooling takes the maximum level; global average pooling rounds Σ (q − z) / (H·W)
 *       to the nearest integer; the logits are (acc)·s_w·s_x in float32.
 * </ul>
 */
public final class IntegerNetwork {
  /** Fraction bits of the residual sum (docs/INTEGER.md §4). */
  public static final int RESIDUAL_FRACTION_BITS = 16;

  /** Bits of the quantized input image (docs/INTEGER.md §1). */
  public static final int INPUT_BITS = 8;

  /** Name of the logits in {@link #trace}. */
  public static final String LOGITS = TraceSource.LOGITS;

  private final Model model;
  private final QParams input;
  private final List<Step> steps;
  private final List<Desc> stepInputs;

  private IntegerNetwork(Model model, QParams input, List<Step> steps, List<Desc> stepInputs) {
    this.model = model;
    this.input = input;
    this.steps = List.copyOf(steps);
    this.stepInputs = List.copyOf(stepInputs);
  }

  public Model model() {
    return model;
  }

  /** The input quantizer (8 bits, per tensor). */
  public QParams input() {
    return input;
  }

  /**
   * The input quantizer of docs/INTEGER.md §1: asymmetric, 8 bits, per tensor, over the exact
   * range of the normalised pixels, [min_c (0 − μ_c)/σ_c, max_c (1 − μ_c)/σ_c] (float32, as
   * {@link Normalization#apply} computes them), by {@link QParams#fromRange}. For one channel
   * this is s = 1/(255σ), z = ⌊255μ⌉, and the level of pixel p is p itself when 255μ is within
   * 1/2 of z (Fashion-MNIST: 255·0.2860 = 72.93, z = 73).
   */
  public static QParams inputParams(Normalization norm) {
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (int c = 0; c < norm.channels(); c++) {
      lo = Math.min(lo, norm.apply(0, c));
      hi = Math.max(hi, norm.apply(255, c));
    }
    return QParams.fromRange(lo, hi, QScheme.asymmetric(INPUT_BITS));
  }

  /**
   * Compiles a quantized model. Every layer needs a fixed (hardened) integer weight and every
   * activation site a quantizer.
   *
   * @param state the quantized model (e.g. {@code QuantExport.read}). Not modified.
   * @param input the input quantizer ({@link #inputParams})
   * @throws IllegalArgumentException naming the layer, site or unit that cannot run in integers:
   *     a site without a quantizer (activations at 32 bits), a weight with soft rounding, a
   *     BatchNorm that is not folded, a unit kind without an integer form, an accumulator that
   *     could overflow int32, a requantization multiplier of 2^30 or more
   */
  public static IntegerNetwork compile(QuantState state, QParams input) {
    Check.arg(input.channels() == 1, "the input quantizer must be per tensor");
    Model m = state.model();
    Compiler c = new Compiler(state);
    Desc x = new Desc("input", input, input.scale(0), (int) input.zeroPoint(0), input.scheme().qmin(),
        input.scheme().qmax(), m.inputShape()[0], m.inputShape()[1], m.inputShape()[2]);
    List<Step> steps = new ArrayList<>();
    List<Desc> inputs = new ArrayList<>();
    for (Unit u : m.units()) {
      Step s = c.unit(u, x);
      steps.add(s);
      inputs.add(x);
      x = s.out();
    }
    return new IntegerNetwork(m, input, steps, inputs);
  }

  /** The integer levels of the quantized input image (N, C, H, W). */
  public int[] quantizeInput(Tensor images) {
    Tensor x = images.contiguous();
    int[] q = new int[x.numel()];
    FakeQuant.quantize(q, x.data(), input, x.numel());
    return q;
  }

  /**
   * The forward pass of docs/INTEGER.md on a batch.
   *
   * @param images normalised images (N, C, H, W) of the model's input shape. Not modified.
   * @param sites receives each activation site's levels in network order (may be null)
   * @return the logits (N, classes), float32
   */
  public Tensor run(IntKernels k, Tensor images, Consumer<SiteTensor> sites) {
    int[] s = images.shape();
    int[] in = model.inputShape();
    Check.arg(s.length == 4 && s[1] == in[0] && s[2] == in[1] && s[3] == in[2],
        "integer path: images must be (N, %d, %d, %d), got %s", in[0], in[1], in[2],
        java.util.Arrays.toString(s));
    Act x = new Act(quantizeInput(images), s[0]);
    Consumer<SiteTensor> sink = sites == null ? t -> { } : sites;
    Tensor logits = null;
    for (Step st : steps) {
      if (st instanceof HeadStep h) {
        logits = h.logits(k, x);
      } else {
        x = st.run(k, x, sink);
      }
    }
    Check.state(logits != null, "model %s has no classifier head", model.arch());
    return logits;
  }

  /**
   * Each unit on its own: unit i runs in integers from the fake-quantized path's input of unit i
   * (a float tensor on the grid of the site that feeds it, or the image for the first unit),
   * quantized with that site's parameters (which gives back its levels exactly). A site's
   * departures here are the unit's own, not carried in from earlier units.
   *
   * @param unitInputs one tensor per unit, in order ({@code FakeQuantTrace.run}). Not modified.
   * @param sites receives each activation site's levels in network order (may be null)
   * @return the logits (N, classes) of the head run on the fake-quantized head input
   */
  public Tensor runEachUnit(IntKernels k, List<Tensor> unitInputs, Consumer<SiteTensor> sites) {
    Check.arg(unitInputs.size() == steps.size(), "%d unit inputs for %d units",
        unitInputs.size(), steps.size());
    Consumer<SiteTensor> sink = sites == null ? t -> { } : sites;
    Tensor logits = null;
    for (int i = 0; i < steps.size(); i++) {
      Tensor xi = unitInputs.get(i).contiguous();
      Desc d = stepInputs.get(i);
      int[] q = new int[xi.numel()];
      FakeQuant.quantize(q, xi.data(), d.params(), xi.numel());
      Act a = new Act(q, xi.dim(0));
      if (steps.get(i) instanceof HeadStep h) {
        logits = h.logits(k, a);
      } else {
        steps.get(i).run(k, a, sink);
      }
    }
    Check.state(logits != null, "model %s has no classifier head", model.arch());
    return logits;
  }

  /**
   * The trace of the integer path for a batch, as a back end's dump is compared with it: every
   * activation site's levels as an I32 tensor (N, C, H, W) named after the site, in network
   * order, then the logits as F32 (N, classes) named {@code logits}.
   *
   * @param images normalised images (N, C, H, W). Not modified.
   */
  public LinkedHashMap<String, TensorEntry> trace(IntKernels k, Tensor images) {
    LinkedHashMap<String, TensorEntry> out = new LinkedHashMap<>();
    Tensor logits = run(k, images, t -> out.put(t.site(), t.entry()));
    out.put(LOGITS, TensorEntry.f32(LOGITS, SiteTensor.longs(logits.shape()),
        logits.contiguous().data()));
    return out;
  }

  // ------------------------------------------------------------------ compiled form

  /** A value's quantization and per-image shape while compiling. */
  private record Desc(String site, QParams params, float scale, int zero, int qmin, int qmax,
      int c, int h, int w) {
    Desc withShape(int c2, int h2, int w2) {
      return new Desc(site, params, scale, zero, qmin, qmax, c2, h2, w2);
    }

    /** Largest |q − z|. */
    int maxCentered() {
      return Math.max(zero - qmin, qmax - zero);
    }

    int plane() {
      return h * w;
    }
  }

  /** A batch of levels at the current point of the network, and its quantization. */
  private record Act(int[] q, int n) {}

  /** One unit of the network. */
  private interface Step {
    Desc out();

    Act run(IntKernels k, Act x, Consumer<SiteTensor> sites);
  }

  /** A layer in integers: centered weights, int32 bias, geometry for one image. */
  private record IntLayer(String name, ConvShape shape, int[] w, int[] bias, double[] accScale) {
    int[] acc(IntKernels k, int[] xCentered, int n) {
      ConvShape s = shape.withBatch(n);
      int[] a = new int[(int) s.outputSize()];
      k.conv(a, xCentered, w, bias, s);
      return a;
    }
  }

  /** The requantization of one layer's accumulator to a site. */
  private record Requant(int[] m0, int[] shift, int zero, int lo, int hi) {}

  private static int[] centered(int[] q, int zero) {
    int[] c = new int[q.length];
    for (int i = 0; i < q.length; i++) {
      c[i] = q[i] - zero;
    }
    return c;
  }

  private static int[] requantize(IntKernels k, int[] acc, Requant r, int n, int channels,
      int plane) {
    int[] q = new int[acc.length];
    k.requantize(q, acc, r.m0(), r.shift(), r.zero(), r.lo(), r.hi(), n, channels, plane);
    return q;
  }

  /** conv → requantize → site, then optional max pooling. */
  private record ConvStep(IntLayer layer, Desc in, Requant rq, Desc site, Desc out, int poolK,
      int poolStride, int poolPad) implements Step {
    @Override
    public Act run(IntKernels k, Act x, Consumer<SiteTensor> sites) {
      int[] acc = layer.acc(k, centered(x.q(), in.zero()), x.n());
      int[] q = requantize(k, acc, rq, x.n(), site.c(), site.plane());
      sites.accept(new SiteTensor(site.site(), new int[] {x.n(), site.c(), site.h(), site.w()},
          q));
      if (poolK == 0) {
        return new Act(q, x.n());
      }
      return new Act(maxPool(q, x.n() * site.c(), site.h(), site.w(), out.h(), out.w()),
          x.n());
    }

    private int[] maxPool(int[] q, int planes, int h, int w, int ho, int wo) {
      int[] y = new int[planes * ho * wo];
      for (int p = 0; p < planes; p++) {
        for (int i = 0; i < ho; i++) {
          for (int j = 0; j < wo; j++) {
            int best = Integer.MIN_VALUE;
            for (int r = Math.max(i * poolStride - poolPad, 0);
                r < Math.min(i * poolStride - poolPad + poolK, h); r++) {
              for (int c = Math.max(j * poolStride - poolPad, 0);
                  c < Math.min(j * poolStride - poolPad + poolK, w); c++) {
                best = Math.max(best, q[(p * h + r) * w + c]);
              }
            }
            y[(p * ho + i) * wo + j] = best;
          }
        }
      }
      return y;
    }
  }

  /** The residual branch that is added to the block's last accumulator. */
  private enum Shortcut { IDENTITY, CONV, OPTION_A }

  /**
   * A residual block: inner layers each to its site, the last layer's accumulator plus the
   * shortcut requantized together (§4) to the block's output site.
   */
  private record BlockStep(List<ConvStep> inner, IntLayer last, Desc lastIn, Shortcut kind,
      IntLayer shortcutConv, int padC, Desc in, int[] am0, int[] ashift, int[] bm0, int[] bshift,
      int lo, int hi, Desc out) implements Step {
    @Override
    public Act run(IntKernels k, Act x, Consumer<SiteTensor> sites) {
      Act h = x;
      for (ConvStep s : inner) {
        h = s.run(k, h, sites);
      }
      int n = x.n();
      int[] a = last.acc(k, centered(h.q(), lastIn.zero()), n);
      int[] xc = centered(x.q(), in.zero());
      int[] b = switch (kind) {
        case IDENTITY -> xc;
        case CONV -> shortcutConv.acc(k, xc, n);
        case OPTION_A -> subsamplePad(xc, n, in.c(), in.h(), in.w(), padC);
      };
      int[] q = new int[a.length];
      k.requantizeSum(q, a, am0, ashift, b, bm0, bshift, RESIDUAL_FRACTION_BITS, out.zero(), lo,
          hi, n, out.c(), out.plane());
      sites.accept(new SiteTensor(out.site(), new int[] {n, out.c(), out.h(), out.w()}, q));
      return new Act(q, n);
    }

    private static int[] subsamplePad(int[] x, int n, int c, int h, int w, int padC) {
      int ho = (h + 1) / 2;
      int wo = (w + 1) / 2;
      int co = c + 2 * padC;
      int[] y = new int[n * co * ho * wo];
      for (int b = 0; b < n; b++) {
        for (int ch = 0; ch < c; ch++) {
          int xo = (b * c + ch) * h * w;
          int yo = (b * co + ch + padC) * ho * wo;
          for (int i = 0; i < ho; i++) {
            for (int j = 0; j < wo; j++) {
              y[yo + i * wo + j] = x[xo + 2 * i * w + 2 * j];
            }
          }
        }
      }
      return y;
    }
  }

  /** Global average pooling (rounded, §5) and the classifier; logits in float32. */
  private record HeadStep(Desc in, IntLayer fc, Desc out) implements Step {
    @Override
    public Act run(IntKernels k, Act x, Consumer<SiteTensor> sites) {
      throw new IllegalStateException("the head ends the network");
    }

    Tensor logits(IntKernels k, Act x) {
      int n = x.n();
      int c = in.c();
      int hw = in.plane();
      int[] pooled = new int[n * c];
      for (int p = 0; p < n * c; p++) {
        long sum = 0;
        for (int i = p * hw; i < (p + 1) * hw; i++) {
          sum += x.q()[i] - in.zero();
        }
        pooled[p] = (int) FixedPoint.roundDiv(sum, hw);
      }
      int[] acc = fc.acc(k, pooled, n);
      int classes = fc.shape().cout();
      float[] y = new float[n * classes];
      for (int b = 0; b < n; b++) {
        for (int j = 0; j < classes; j++) {
          y[b * classes + j] = (float) (acc[b * classes + j] * fc.accScale()[j]);
        }
      }
      return Tensor.of(y, n, classes);
    }
  }

  // ------------------------------------------------------------------ compiler

  private static final class Compiler {
    private final QuantState state;

    Compiler(QuantState state) {
      this.state = state;
    }

    Step unit(Unit u, Desc x) {
      if (u instanceof ConvUnit cu) {
        return conv(cu.conv(), u.name(), x, cu.name(), cu.act(), 0, 0, 0);
      }
      if (u instanceof PooledConvUnit pu) {
        return conv(pu.conv(), u.name(), x, pu.name(), pu.act(), pu.poolKernel(),
            pu.poolStride(), pu.poolPad());
      }
      if (u instanceof BasicBlock bb) {
        ConvStep c1 = conv(bb.conv1(), u.name(), x, bb.name() + ".conv1", Activation.RELU, 0, 0, 0);
        Shortcut kind = bb.downsample() != null ? Shortcut.CONV
            : bb.optionAPad() > 0 ? Shortcut.OPTION_A : Shortcut.IDENTITY;
        return block(u, List.of(c1), bb.conv2(), x, kind, bb.downsample(), bb.optionAPad(),
            Activation.RELU);
      }
      if (u instanceof Bottleneck bn) {
        ConvStep c1 = conv(bn.conv1(), u.name(), x, bn.name() + ".conv1", Activation.RELU, 0, 0, 0);
        ConvStep c2 = conv(bn.conv2(), u.name(), c1.out(), bn.name() + ".conv2", Activation.RELU,
            0, 0, 0);
        return block(u, List.of(c1, c2), bn.conv3(), x,
            bn.downsample() == null ? Shortcut.IDENTITY : Shortcut.CONV, bn.downsample(), 0,
            Activation.RELU);
      }
      if (u instanceof RegNetBlock rb) {
        ConvStep a = conv(rb.a(), u.name(), x, rb.a().conv().name(), Activation.RELU, 0, 0, 0);
        ConvStep b = conv(rb.b(), u.name(), a.out(), rb.b().conv().name(), Activation.RELU, 0, 0,
            0);
        return block(u, List.of(a, b), rb.c(), x,
            rb.proj() == null ? Shortcut.IDENTITY : Shortcut.CONV, rb.proj(), 0, Activation.RELU);
      }
      if (u instanceof InvertedResidual ir) {
        List<ConvStep> inner = new ArrayList<>();
        Desc h = x;
        if (ir.expand() != null) {
          ConvStep e = conv(ir.expand(), u.name(), h, ir.expand().conv().name(), ir.act(), 0, 0, 0);
          inner.add(e);
          h = e.out();
        }
        ConvStep dw = conv(ir.depthwise(), u.name(), h, ir.depthwise().conv().name(), ir.act(), 0,
            0, 0);
        inner.add(dw);
        if (!ir.hasShortcut()) {
          inner.add(conv(ir.project(), u.name(), dw.out(), ir.name(), Activation.NONE, 0, 0, 0));
          return new Chain(inner);
        }
        return block(u, inner, ir.project(), x, Shortcut.IDENTITY, null, 0, Activation.NONE);
      }
      if (u instanceof Head hd) {
        return head(hd, x);
      }
      throw new IllegalArgumentException("unit " + u.name() + " (" + u.kind() + ", "
          + u.getClass().getSimpleName() + ") has no integer form in docs/INTEGER.md");
    }

    private ActQuantizer site(String unit, String site) {
      ActQuantizer q = state.act(site);
      Check.arg(q != null, "unit %s: activation site %s has no quantizer (activations at 32 "
          + "bits); the integer path needs every site quantized", unit, site);
      return q;
    }

    private Conv2d folded(String unit, ConvBn cb) {
      Check.arg(cb.bn() == null, "unit %s: the BatchNorm after %s is not folded (load the model "
          + "with BatchNorm folded)", unit, cb.conv().name());
      return cb.conv();
    }

    /** Centered weight, int32 bias and accumulator scale of a layer reading {@code in}. */
    private IntLayer layer(Layer l, ConvShape shape, Desc in) {
      WeightQuantizer wq = state.weight(l.name());
      Check.arg(wq instanceof WeightQuantizer.Fixed, "layer %s has %s; the integer path needs "
          + "fixed integer weights", l.name(), wq == null ? "no weight quantizer (FP weights)"
          : "soft (unhardened) rounding");
      WeightQuantizer.Fixed f = (WeightQuantizer.Fixed) wq;
      QParams p = f.params();
      int cout = l.outChannels();
      int cs = l.channelSize();
      int[] w = new int[cout * cs];
      float[] bias = l.bias() == null ? null : l.bias().value().contiguous().data();
      int[] b = bias == null ? null : new int[cout];
      double[] accScale = new double[cout];
      for (int c = 0; c < cout; c++) {
        int z = (int) p.zeroPoint(c);
        long absSum = 0;
        for (int i = c * cs; i < (c + 1) * cs; i++) {
          w[i] = f.levels()[i] - z;
          absSum += Math.abs(w[i]);
        }
        accScale[c] = (double) p.scale(c) * (double) in.scale();
        long bq = 0;
        if (b != null) {
          double v = Math.rint(bias[c] / accScale[c]);
          Check.arg(Math.abs(v) <= Integer.MAX_VALUE, "layer %s: bias %s of channel %d is %s "
              + "accumulator steps, beyond int32", l.name(), bias[c], c, v);
          bq = (long) v;
          b[c] = (int) bq;
        }
        long bound = absSum * in.maxCentered() + Math.abs(bq);
        Check.arg(bound <= Integer.MAX_VALUE, "layer %s: the int32 accumulator of channel %d "
            + "could overflow (worst case %d > 2^31 - 1)", l.name(), c, bound);
      }
      return new IntLayer(l.name(), shape, w, b, accScale);
    }

    private static int[] clampBounds(ActQuantizer q, Activation act) {
      QParams p = q.params();
      int z = (int) p.zeroPoint(0);
      int lo = p.scheme().qmin();
      int hi = p.scheme().qmax();
      if (act != Activation.NONE) {
        lo = Math.max(lo, z);
      }
      if (act == Activation.RELU6) {
        hi = Math.min(hi, z + (int) Math.rint(6f / p.scale(0)));
      }
      return new int[] {lo, hi};
    }

    private static Desc desc(ActQuantizer q, int c, int h, int w) {
      QParams p = q.params();
      return new Desc(q.site(), p, p.scale(0), (int) p.zeroPoint(0), p.scheme().qmin(),
          p.scheme().qmax(), c, h, w);
    }

    private static ConvShape shape(Conv2d c, Desc in) {
      Check.arg(c.inChannels() == in.c(), "layer %s takes %d channels, gets %d", c.name(),
          c.inChannels(), in.c());
      return new ConvShape(1, in.c(), in.h(), in.w(), c.outChannels(), c.kernelH(), c.kernelW(),
          c.stride(), c.pad(), c.groups());
    }

    private static Requant requant(IntLayer l, ActQuantizer out, Activation act) {
      int cout = l.shape().cout();
      int[] m0 = new int[cout];
      int[] shift = new int[cout];
      float sy = out.params().scale(0);
      for (int c = 0; c < cout; c++) {
        FixedPoint.Multiplier m = multiplier(l.name(), out.site(), l.accScale()[c] / sy);
        m0[c] = m.m0();
        shift[c] = m.shift();
      }
      int[] b = clampBounds(out, act);
      return new Requant(m0, shift, (int) out.params().zeroPoint(0), b[0], b[1]);
    }

    private static FixedPoint.Multiplier multiplier(String from, String to, double m) {
      try {
        return FixedPoint.encode(m);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("requantization " + from + " -> " + to + ": "
            + e.getMessage(), e);
      }
    }

    private ConvStep conv(ConvBn cb, String unit, Desc in, String site, Activation act, int poolK,
        int poolStride, int poolPad) {
      Conv2d c = folded(unit, cb);
      ConvShape s = shape(c, in);
      IntLayer l = layer(c, s, in);
      ActQuantizer q = site(unit, site);
      Desc sd = desc(q, s.cout(), s.ho(), s.wo());
      Desc out = poolK == 0 ? sd : sd.withShape(s.cout(),
          (s.ho() + 2 * poolPad - poolK) / poolStride + 1,
          (s.wo() + 2 * poolPad - poolK) / poolStride + 1);
      return new ConvStep(l, in, requant(l, q, act), sd, out, poolK, poolStride, poolPad);
    }

    private BlockStep block(Unit u, List<ConvStep> inner, ConvBn lastCb, Desc x, Shortcut kind,
        ConvBn shortcutCb, int padC, Activation act) {
      Desc lastIn = inner.get(inner.size() - 1).out();
      Conv2d lastConv = folded(u.name(), lastCb);
      ConvShape ls = shape(lastConv, lastIn);
      IntLayer last = layer(lastConv, ls, lastIn);
      ActQuantizer q = site(u.name(), u.outputSite());
      Desc out = desc(q, ls.cout(), ls.ho(), ls.wo());
      float sy = q.params().scale(0);
      int cout = ls.cout();
      IntLayer sc = null;
      if (kind == Shortcut.CONV) {
        Conv2d d = folded(u.name(), shortcutCb);
        sc = layer(d, shape(d, x), x);
      } else {
        int c = kind == Shortcut.OPTION_A ? x.c() + 2 * padC : x.c();
        int h = kind == Shortcut.OPTION_A ? (x.h() + 1) / 2 : x.h();
        int w = kind == Shortcut.OPTION_A ? (x.w() + 1) / 2 : x.w();
        Check.arg(c == cout && h == ls.ho() && w == ls.wo(), "unit %s: shortcut gives %dx%dx%d, "
            + "the block %dx%dx%d", u.name(), c, h, w, cout, ls.ho(), ls.wo());
      }
      int[] am0 = new int[cout];
      int[] ashift = new int[cout];
      int[] bm0 = new int[cout];
      int[] bshift = new int[cout];
      for (int c = 0; c < cout; c++) {
        FixedPoint.Multiplier ma = multiplier(last.name(), out.site(),
            Math.scalb(last.accScale()[c] / sy, RESIDUAL_FRACTION_BITS));
        double bScale = sc == null ? x.scale() : sc.accScale()[c];
        FixedPoint.Multiplier mb = multiplier(sc == null ? x.site() : sc.name(), out.site(),
            Math.scalb(bScale / sy, RESIDUAL_FRACTION_BITS));
        am0[c] = ma.m0();
        ashift[c] = ma.shift();
        bm0[c] = mb.m0();
        bshift[c] = mb.shift();
      }
      int[] b = clampBounds(q, act);
      return new BlockStep(inner, last, lastIn, kind, sc, padC, x, am0, ashift, bm0, bshift, b[0],
          b[1], out);
    }

    private HeadStep head(Head h, Desc x) {
      Linear fc = h.fc();
      Check.arg(fc.weight().value().dim(1) == x.c(), "classifier %s takes %d features, gets %d",
          fc.name(), fc.weight().value().dim(1), x.c());
      ConvShape s = new ConvShape(1, x.c(), 1, 1, fc.outChannels(), 1, 1, 1, 0, 1);
      return new HeadStep(x, layer(fc, s, x), x.withShape(fc.outChannels(), 1, 1));
    }
  }

  /** Steps run one after another (an inverted residual block without its shortcut). */
  private record Chain(List<ConvStep> steps) implements Step {
    @Override
    public Desc out() {
      return steps.get(steps.size() - 1).out();
    }

    @Override
    public Act run(IntKernels k, Act x, Consumer<SiteTensor> sites) {
      Act h = x;
      for (ConvStep s : steps) {
        h = s.run(k, h, sites);
      }
      return h;
    }
  }
}
