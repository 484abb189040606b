package org.qlimit.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.qlimit.model.BasicBlock;
import org.qlimit.model.BertClassifierHead;
import org.qlimit.model.BertEmbeddings;
import org.qlimit.model.BertLayer;
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
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.onnx.Onnx.OperatorSetIdProto;
import org.qlimit.onnx.Onnx.StringStringEntryProto;
import org.qlimit.onnx.Onnx.TensorProto.DataType;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.util.Check;

/**
 * A quantized model as an ONNX graph in QDQ form (ONNX opset {@value #OPSET}, IR version
 * {@value #IR_VERSION}): the FP network with a QuantizeLinear/DequantizeLinear pair at every
 * quantized activation site and a DequantizeLinear on every quantized weight. The encoding is
 * specified in docs/onnx-export.md; in short:
 *
 * <pre>
 * input   F32 (N, C, H, W)  normalised images (as qlimit's forward takes them)
 * weight  L.weight_int (Cout, ...): centred levels q − z, INT8 (INT32 for 8-bit asymmetric),
 *         zero point 0 ({@link WeightEncoding#CENTRED}), or qlimit's levels q, UINT8/INT8, with
 *         L.weight_zero_point (Cout) ({@link WeightEncoding#LEVELS}); L.weight_scale F32 (Cout);
 *         DequantizeLinear(axis 0) → (q − z)·s, the weight qlimit's forward uses
 * bias    L.bias F32 (Cout): the folded FP bias ({@link BiasEncoding#FLOAT}), or INT32 on the
 *         accumulator grid s_x·s_w ({@link BiasEncoding#INT32})
 * site S  QuantizeLinear(x, s, z) → UINT8/INT8 (round half to even, saturate to the 8-bit type);
 *         for b &lt; 8 bits a Clip to [qmin, qmax] follows in the integer domain; the integer
 *         tensor in [qmin, qmax] is named S; DequantizeLinear(S) → (S − z)·s
 * logits  F32 (N, classes)
 * </pre>
 *
 * QuantizeLinear computes saturate(⌊x / s⌉ + z) with round half to even, the same as qlimit's
 * {@code FakeQuant.level} (one float division, {@code Math.rint}, exact addition of z); the
 * saturation to the 8-bit type followed by the Clip equals qlimit's clamp to [qmin, qmax].
 * Every value the graph computes therefore has qlimit's definition; what differs in a runtime
 * is the order of float sums inside Conv, Gemm and GlobalAveragePool.
 *
 * <p>The exporter covers the convolutional image classifiers of {@code qlimit archs}; a
 * BERT-layout encoder ({@code --arch bert}) is refused with a one-line error before any node is
 * written (its graph — token-id input, Gather embeddings, LayerNormalization, masked attention —
 * is not emitted yet; docs/onnx-export.md).
 *
 * <p>Bit widths 2..8 export; a layer or site wider than 8 bits is an error naming it (opset 13
 * has only 8-bit quantized types). A layer without a weight quantizer keeps its FP weight, a
 * site without an activation quantizer passes its float value on (e.g. {@code --abits 32}).
 */
public final class OnnxExport {
  private OnnxExport() {}

  /** The ONNX operator set the graph uses (default domain). */
  public static final int OPSET = 13;

  /** The ONNX IR version written (7 is the IR of opset 13). */
  public static final long IR_VERSION = 7;

  /** The graph input's name: normalised images (N, C, H, W), F32. */
  public static final String INPUT = "input";

  /** The graph output's name: logits (N, classes), F32. */
  public static final String LOGITS = "logits";

  /**
   * How a quantized weight's integers are stored (docs/onnx-export.md).
   *
   * <ul>
   *   <li>{@code CENTRED} (default): the centred levels q − z with zero point 0: INT8 for
   *       symmetric weights and asymmetric ones up to 7 bits (|q − z| ≤ 127), INT32 (no zero
   *       point) for 8-bit asymmetric ones. The same (q − z)·s as qlimit, with the weight zero
   *       point constant across channels, which ONNX Runtime's integer convolution
   *       (QLinearConv) requires when it fuses the QDQ pairs.
   *   <li>{@code LEVELS}: qlimit's levels q as stored in quantized.safetensors, UINT8
   *       (asymmetric) or INT8 (symmetric), with the per-channel zero points z. Exactly
   *       qlimit's integers; ONNX Runtime runs it with graph optimisations off but rejects it
   *       when it fuses a convolution whose channels have different zero points.
   * </ul>
   */
  public enum WeightEncoding {
    CENTRED, LEVELS
  }

  /**
   * How a layer's bias is stored (docs/onnx-export.md).
   *
   * <ul>
   *   <li>{@code FLOAT} (default): qlimit's FP bias, F32, as the fake-quantized model adds it.
   *       A runtime that fuses the layer into an integer kernel rounds it to int32 at
   *       s_x·s_w itself (ONNX Runtime does, at its default level).
   *   <li>{@code INT32}: where the layer's input is a quantized site and its weight is
   *       quantized, the bias on the accumulator grid, b_q[c] = ⌊b[c] / (s_x·s_w[c])⌉ (round half
   *       to even, s_x·s_w[c] one float product), stored INT32 with DequantizeLinear at scale
   *       s_x·s_w[c] (axis 0): the deployment form of QDQ models. It changes the model by at
   *       most half an accumulator step per channel; other layers keep the F32 bias.
   * </ul>
   */
  public enum BiasEncoding {
    FLOAT, INT32
  }

  /**
   * What to export beyond the model, and how.
   *
   * @param weights how weight integers are stored
   * @param biases how biases are stored
   * @param siteOutputs every quantized site's integer tensor (named after the site, UINT8 or
   *     INT8, in network order) is also a graph output, after {@code logits}, so that a runtime
   *     can be asked for them (a trace of the runtime, see {@code qlimit compare})
   */
  public record Options(WeightEncoding weights, BiasEncoding biases, boolean siteOutputs) {
    public Options {
      Check.arg(weights != null, "ONNX export: weight encoding is null");
      Check.arg(biases != null, "ONNX export: bias encoding is null");
    }

    /** Centred weights, FP biases, one input, one output. */
    public static final Options DEFAULT = new Options(WeightEncoding.CENTRED, BiasEncoding.FLOAT,
        false);
  }

  /**
   * Builds the ONNX model of {@code state}'s quantized network.
   *
   * @param state a quantization whose layers are all fixed (hardened) and whose model is
   *     BatchNorm-folded. Not modified.
   * @throws IllegalArgumentException naming the layer, site or unit that cannot be exported (a
   *     bit width above 8, a BatchNorm left unfolded, a unit kind the exporter does not know,
   *     a BERT-layout encoder)
   */
  public static ModelProto build(QuantState state, Options options) {
    Model m = state.model();
    requireImageClassifier(m);
    GraphBuilder g = new GraphBuilder(m.arch());
    Emitter e = new Emitter(g, state, options);
    int[] in = m.inputShape();
    g.input(INPUT, DataType.FLOAT, "N", in[0], in[1], in[2]);
    String h = INPUT;
    for (Unit u : m.units()) {
      h = e.unit(u, h);
    }
    g.rename(h, LOGITS);
    g.output(LOGITS, DataType.FLOAT, "N", m.numClasses());
    if (options.siteOutputs()) {
      for (ActQuantizer a : state.actsInOrder()) {
        g.output(a.site(), intType(a.scheme()), (Object[]) null);
      }
    }
    ModelProto.Builder mb = ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .setProducerName("qlimit")
        .setProducerVersion(PRODUCER_VERSION)
        .setDocString("qlimit quantized " + m.arch() + " in QDQ form; see docs/onnx-export.md")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(g.build());
    mb.addMetadataProps(meta("arch", m.arch()));
    mb.addMetadataProps(meta("input", "normalised images (N, " + in[0] + ", " + in[1] + ", "
        + in[2] + ")"));
    return mb.build();
  }

  /**
   * Refuses a model the exporter has no graph for: a BERT-layout encoder (its embeddings,
   * transformer layers or classifier head), with a one-line error naming the architecture and
   * the first such unit.
   */
  static void requireImageClassifier(Model m) {
    for (Unit u : m.units()) {
      if (u instanceof BertEmbeddings || u instanceof BertLayer
          || u instanceof BertClassifierHead) {
        throw new IllegalArgumentException("ONNX export: architecture " + m.arch() + " is a "
            + "BERT-layout encoder (unit " + u.name() + ", " + u.kind() + "), which the "
            + "exporter does not support yet; it exports the convolutional image classifiers "
            + "(docs/onnx-export.md)");
      }
    }
  }

  /** The version string written as producer_version. */
  static final String PRODUCER_VERSION = "0.1.0";

  /** Writes {@link #build} to {@code file} (replaced; parent folders are created). */
  public static void write(Path file, QuantState state, Options options) throws IOException {
    ModelProto mp = build(state, options);
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    try (OutputStream os = Files.newOutputStream(file)) {
      mp.writeTo(os);
    }
  }

  private static StringStringEntryProto meta(String k, String v) {
    return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
  }

  /** The 8-bit ONNX type holding a scheme's levels: UINT8 (asymmetric) or INT8 (symmetric). */
  static DataType intType(QScheme s) {
    return s.symmetric() ? DataType.INT8 : DataType.UINT8;
  }

  /** Turns each unit into nodes, mirroring the units' forward code. */
  private static final class Emitter {
    private final GraphBuilder g;
    private final QuantState state;
    private final WeightEncoding encoding;
    private final BiasEncoding biases;
    // dequantized site value name → its quantizer (lookups only, never iterated)
    private final java.util.Map<String, ActQuantizer> siteOf = new java.util.HashMap<>();

    Emitter(GraphBuilder g, QuantState state, Options o) {
      this.g = g;
      this.state = state;
      this.encoding = o.weights();
      this.biases = o.biases();
    }

    /** Emits unit {@code u} on input value {@code x}; returns its output value's name. */
    String unit(Unit u, String x) {
      if (u instanceof ConvUnit c) {
        return site(c.name(), act(c.act(), conv(c.conv(), x)));
      }
      if (u instanceof PooledConvUnit p) {
        String h = site(p.name(), act(p.act(), conv(p.conv(), x)));
        return g.maxPool(h, p.poolKernel(), p.poolStride(), p.poolPad());
      }
      if (u instanceof BasicBlock b) {
        String h = site(b.name() + ".conv1", g.relu(conv(b.conv1(), x)));
        h = conv(b.conv2(), h);
        String sc;
        if (b.downsample() != null) {
          sc = conv(b.downsample(), x);
        } else if (b.optionAPad() > 0) {
          sc = g.subsamplePadChannels(x, b.optionAPad());
        } else {
          sc = x;
        }
        return site(b.name(), g.relu(g.add(h, sc)));
      }
      if (u instanceof Bottleneck b) {
        String h = site(b.name() + ".conv1", g.relu(conv(b.conv1(), x)));
        h = site(b.name() + ".conv2", g.relu(conv(b.conv2(), h)));
        h = conv(b.conv3(), h);
        String sc = b.downsample() == null ? x : conv(b.downsample(), x);
        return site(b.name(), g.relu(g.add(h, sc)));
      }
      if (u instanceof RegNetBlock r) {
        String h = site(r.a().conv().name(), g.relu(conv(r.a(), x)));
        h = site(r.b().conv().name(), g.relu(conv(r.b(), h)));
        h = conv(r.c(), h);
        String sc = r.proj() == null ? x : conv(r.proj(), x);
        return site(r.name(), g.relu(g.add(h, sc)));
      }
      if (u instanceof InvertedResidual r) {
        String h = x;
        if (r.expand() != null) {
          h = site(r.expand().conv().name(), act(r.act(), conv(r.expand(), h)));
        }
        h = site(r.depthwise().conv().name(), act(r.act(), conv(r.depthwise(), h)));
        h = conv(r.project(), h);
        if (r.hasShortcut()) {
          h = g.add(h, x);
        }
        return site(r.name(), h);
      }
      if (u instanceof Head hd) {
        String pooled = g.flatten(g.globalAveragePool(x));
        Linear fc = hd.fc();
        return g.gemm(pooled, weight(fc), bias(fc), fc.name());
      }
      throw new IllegalArgumentException("ONNX export: unit " + u.name() + " of kind " + u.kind()
          + " is not supported");
    }

    private String act(Activation a, String x) {
      return switch (a) {
        case NONE -> x;
        case RELU -> g.relu(x);
        case RELU6 -> g.relu6(x);
      };
    }

    private String conv(ConvBn cb, String x) {
      Check.arg(cb.bn() == null, "ONNX export: layer %s still has BatchNorm %s; export folds "
          + "BatchNorm first (load the model with Architectures.load)", cb.conv().name(),
          cb.bn() == null ? "" : cb.bn().name());
      Conv2d c = cb.conv();
      ActQuantizer in = siteOf.get(x);
      WeightQuantizer wq = state.weight(c.name());
      String b = biases == BiasEncoding.INT32 && in != null && wq != null && c.bias() != null
          ? int32Bias(c, in.params().scale(0), wq.params()) : bias(c);
      return g.conv(x, weight(c), b, c);
    }

    /**
     * The bias on the accumulator grid: b_q[c] = ⌊b[c] / (s_x·s_w[c])⌉ as INT32, dequantized at
     * scale s_x·s_w[c] along axis 0.
     */
    private String int32Bias(Layer l, float sx, QParams w) {
      float[] b = l.bias().value().contiguous().data();
      float[] scale = new float[b.length];
      int[] q = new int[b.length];
      for (int c = 0; c < b.length; c++) {
        scale[c] = sx * w.scale(c);
        double v = Math.rint(b[c] / scale[c]);
        Check.arg(Math.abs(v) <= Integer.MAX_VALUE, "ONNX export: layer %s: bias[%d] = %s is "
            + "%s accumulator steps, outside int32", l.name(), c, b[c], v);
        q[c] = (int) v;
      }
      String qn = g.intInit(l.name() + ".bias_int", DataType.INT32, q, b.length);
      String sn = g.floatInit(l.name() + ".bias_scale", scale, b.length);
      return g.dequantize(qn, sn, null, 0, l.name() + ".bias");
    }

    private String bias(Layer l) {
      if (l.bias() == null) {
        return null;
      }
      return g.floatInit(l.name() + ".bias", l.bias().value().contiguous().data(),
          l.bias().shape());
    }

    /** The weight operand: DequantizeLinear of the integer levels, or the FP weight. */
    private String weight(Layer l) {
      WeightQuantizer q = state.weight(l.name());
      int[] shape = l.weight().shape();
      if (q == null) {
        return g.floatInit(l.name() + ".weight", l.weight().value().contiguous().data(), shape);
      }
      Check.arg(q instanceof WeightQuantizer.Fixed, "ONNX export: layer %s still has soft "
          + "rounding; harden it before export", l.name());
      WeightQuantizer.Fixed f = (WeightQuantizer.Fixed) q;
      QParams p = f.params();
      QScheme s = p.scheme();
      Check.arg(s.bits() <= 8, "ONNX export: layer %s has %d-bit weights; ONNX opset %d "
          + "quantized types hold at most 8 bits", l.name(), s.bits(), OPSET);
      int c = p.channels();
      int cs = l.channelSize();
      float[] scale = new float[c];
      int[] zp = new int[c];
      for (int i = 0; i < c; i++) {
        scale[i] = p.scale(i);
        zp[i] = (int) p.zeroPoint(i);
      }
      String sn = g.floatInit(l.name() + ".weight_scale", scale, c);
      int[] levels = f.levels();
      if (encoding == WeightEncoding.LEVELS || s.symmetric()) {
        DataType t = intType(s);
        String qn = g.intInit(l.name() + ".weight_int", t, levels, shape);
        String zn = g.intInit(l.name() + ".weight_zero_point", t, zp, c);
        return g.dequantize(qn, sn, zn, 0, l.name() + ".weight");
      }
      int[] centred = new int[levels.length];
      for (int i = 0; i < levels.length; i++) {
        centred[i] = levels[i] - zp[i / cs];
      }
      if (s.bits() <= 7) {
        String qn = g.intInit(l.name() + ".weight_int", DataType.INT8, centred, shape);
        String zn = g.intInit(l.name() + ".weight_zero_point", DataType.INT8, new int[c], c);
        return g.dequantize(qn, sn, zn, 0, l.name() + ".weight");
      }
      String qn = g.intInit(l.name() + ".weight_int", DataType.INT32, centred, shape);
      return g.dequantize(qn, sn, null, 0, l.name() + ".weight");
    }

    /**
     * Activation site {@code site} on float value {@code x}: QuantizeLinear (+ Clip below 8
     * bits) producing the integer tensor named {@code site}, then DequantizeLinear. A site
     * without a quantizer returns x.
     */
    private String site(String site, String x) {
      ActQuantizer a = state.act(site);
      if (a == null) {
        return x;
      }
      QParams p = a.params();
      QScheme s = p.scheme();
      Check.arg(s.bits() <= 8, "ONNX export: activation site %s has %d-bit activations; ONNX "
          + "opset %d quantized types hold at most 8 bits", site, s.bits(), OPSET);
      DataType t = intType(s);
      String sn = g.floatScalar(site + ".act_scale", p.scale(0));
      String zn = g.int8Scalar(site + ".act_zero_point", t, (int) p.zeroPoint(0));
      boolean clip = s.bits() < 8;
      String q = g.quantize(x, sn, zn, clip ? site + ".saturated" : site);
      if (clip) {
        String lo = g.int8Scalar(site + ".qmin", t, s.qmin());
        String hi = g.int8Scalar(site + ".qmax", t, s.qmax());
        g.clipInt(q, lo, hi, site);
      }
      String dq = g.dequantize(site, sn, zn, -1, site + ".dequantized");
      siteOf.put(dq, a);
      return dq;
    }
  }
}
