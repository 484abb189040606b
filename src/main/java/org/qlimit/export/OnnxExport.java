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
import java.util.List;
import org.qlimit.autograd.Var;
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
 * <p>A BERT-layout encoder ({@code --arch bert}) is written at opset {@value #BERT_OPSET} (IR
 * version {@value #BERT_IR_VERSION}, for LayerNormalization): inputs {@value #INPUT_IDS} and
 * {@value #ATTENTION_MASK}, INT64 (N, L); Gather embeddings; MatMul on DequantizeLinear weights
 * stored transposed (in, out) with the per-output-channel axis 1; QDQ at every site of ALGORITHMS.md §11 under the same
 * naming; Softmax over scores plus the additive mask (1 − mask)·(−10⁹), which gives the masked
 * keys exactly the zero probability qlimit gives them; GELU as 0.5·x·(1 + Erf(x/√2)); the tanh
 * pooler on the [CLS] position and the classifier as Gemm. Biases stay F32 (INT32 biases are an
 * error for it). docs/onnx-export.md has the details.
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

  /** The operator set of a BERT-layout encoder's graph (LayerNormalization needs 17). */
  public static final int BERT_OPSET = 17;

  /** The ONNX IR version written for {@link #BERT_OPSET} graphs. */
  public static final long BERT_IR_VERSION = 8;

  /** A BERT graph's first input: token ids (N, L), INT64. */
  public static final String INPUT_IDS = "input_ids";

  /**
   * A BERT graph's second input: 1 for a real token, 0 for padding (N, L), INT64; qlimit's own
   * rule is {@code input_ids != pad_token_id}, and a runtime must be given that mask to compute
   * qlimit's values.
   */
  public static final String ATTENTION_MASK = "attention_mask";

  /** The additive mask value of a padded key (exp of it underflows to exactly 0 in F32). */
  static final float MASKED = -1e9f;

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
   *     INT32 biases for a BERT-layout encoder)
   */
  public static ModelProto build(QuantState state, Options options) {
    Model m = state.model();
    boolean bert = isBert(m);
    GraphBuilder g = new GraphBuilder(m.arch());
    Emitter e = new Emitter(g, state, options);
    String h;
    String inputDoc;
    if (bert) {
      Check.arg(options.biases() == BiasEncoding.FLOAT, "ONNX export: %s: INT32 biases cover "
          + "the convolutional image classifiers; export a BERT-layout encoder with float biases",
          m.arch());
      h = e.bert(m);
      inputDoc = INPUT_IDS + " and " + ATTENTION_MASK + " INT64 (N, L)";
    } else {
      int[] in = m.inputShape();
      g.input(INPUT, DataType.FLOAT, "N", in[0], in[1], in[2]);
      h = INPUT;
      for (Unit u : m.units()) {
        h = e.unit(u, h);
      }
      inputDoc = "normalised images (N, " + in[0] + ", " + in[1] + ", " + in[2] + ")";
    }
    g.rename(h, LOGITS);
    g.output(LOGITS, DataType.FLOAT, "N", m.numClasses());
    if (options.siteOutputs()) {
      for (ActQuantizer a : state.actsInOrder()) {
        g.output(a.site(), intType(a.scheme()), (Object[]) null);
      }
    }
    ModelProto.Builder mb = ModelProto.newBuilder()
        .setIrVersion(bert ? BERT_IR_VERSION : IR_VERSION)
        .setProducerName("qlimit")
        .setProducerVersion(PRODUCER_VERSION)
        .setDocString("qlimit quantized " + m.arch() + " in QDQ form; see docs/onnx-export.md")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("")
            .setVersion(bert ? BERT_OPSET : OPSET))
        .setGraph(g.build());
    mb.addMetadataProps(meta("arch", m.arch()));
    mb.addMetadataProps(meta("input", inputDoc));
    return mb.build();
  }

  /** Whether {@code m} is a BERT-layout encoder (its first unit is BERT embeddings). */
  static boolean isBert(Model m) {
    return m.units().get(0) instanceof BertEmbeddings;
  }

  /** The opset {@link #build} writes for {@code m}: {@link #BERT_OPSET} or {@link #OPSET}. */
  public static int opset(Model m) {
    return isBert(m) ? BERT_OPSET : OPSET;
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

    // ---- the BERT-layout encoder (opset 17) ----

    /** Emits the whole encoder on the graph inputs; returns the logits' value name. */
    String bert(Model m) {
      g.input(INPUT_IDS, DataType.INT64, "N", "L");
      g.input(ATTENTION_MASK, DataType.INT64, "N", "L");
      String h = embeddings((BertEmbeddings) m.units().get(0));
      String mask = additiveMask();
      for (Unit u : m.units().subList(1, m.units().size())) {
        if (u instanceof BertLayer l) {
          h = transformer(l, h, mask);
        } else if (u instanceof BertClassifierHead hd) {
          h = bertHead(hd, h);
        } else {
          throw new IllegalArgumentException("ONNX export: unit " + u.name() + " of kind "
              + u.kind() + " is not supported in a BERT-layout encoder");
        }
      }
      return h;
    }

    /** word[ids] + position[0..L) + token_type[0], then LayerNorm (N, L, H). */
    private String embeddings(BertEmbeddings e) {
      String n = e.name();
      int hidden = e.word().value().dim(1);
      // the tables as qlimit's forward pass reads them: at 8 bits (ALGORITHMS.md §11), stored
      // as their exact dequantized values
      String word = g.floatInit(n + ".word_embeddings.weight",
          data(state.embeddingTable(BertEmbeddings.WORD, e.word())), e.word().shape());
      String we = g.op("Gather", n + ".word", word, INPUT_IDS);
      String pos = g.floatInit(n + ".position_embeddings.weight",
          data(state.embeddingTable(BertEmbeddings.POSITION, e.position())),
          e.position().shape());
      String len = g.op("Shape", n + ".length",
          List.of(GraphBuilder.attr("start", 1), GraphBuilder.attr("end", 2)), INPUT_IDS);
      String pe = g.op("Slice", n + ".position", pos, g.int64Const(n + ".position_start", 0),
          len, g.int64Const(n + ".position_axis", 0));
      float[] type0 = java.util.Arrays.copyOf(
          data(state.embeddingTable(BertEmbeddings.TOKEN_TYPE, e.tokenType())), hidden);
      String te = g.floatInit(n + ".token_type_embeddings.row0", type0, hidden);
      String sum = g.op("Add", n + ".sum", g.op("Add", n + ".word_position", we, pe), te);
      return layerNorm(sum, e.lnWeight(), e.lnBias(), e.eps(), n + ".LayerNorm");
    }

    /** (1 − mask)·(−10⁹) as F32 (N, 1, 1, L), added to the attention scores. */
    private String additiveMask() {
      String mf = g.op("Cast", ATTENTION_MASK + ".float",
          List.of(GraphBuilder.attr("to", DataType.FLOAT_VALUE)), ATTENTION_MASK);
      String one = g.floatConst(ATTENTION_MASK + ".one", new float[] {1f});
      String inv = g.op("Sub", ATTENTION_MASK + ".padding", one, mf);
      String big = g.floatConst(ATTENTION_MASK + ".masked", new float[] {MASKED});
      String add = g.op("Mul", ATTENTION_MASK + ".additive", inv, big);
      return g.op("Unsqueeze", ATTENTION_MASK + ".additive_nhql", add,
          g.int64Const(ATTENTION_MASK + ".axes", 1, 2));
    }

    private String layerNorm(String x, Var gamma, Var beta, float eps, String name) {
      String w = g.floatInit(name + ".weight", data(gamma), gamma.shape());
      String b = g.floatInit(name + ".bias", data(beta), beta.shape());
      return g.op("LayerNormalization", name, List.of(GraphBuilder.attr("axis", -1),
          GraphBuilder.floatAttr("epsilon", eps)), x, w, b);
    }

    /** x·Wᵀ + b on (N, L, in): MatMul with the weight stored transposed (in, out), then Add. */
    private String linear(Linear l, String x) {
      String y = g.op("MatMul", l.name() + ".matmul", x, weight(l, true));
      return l.bias() == null ? y : g.op("Add", l.name() + ".output", y, bias(l));
    }

    /** (N, L, heads·D) → (N, heads, L, D). */
    private String splitHeads(String x, int heads, int d, String name) {
      String r = g.op("Reshape", name + ".reshaped", x,
          g.int64Const(name + ".shape", 0, 0, heads, d));
      return g.op("Transpose", name, List.of(GraphBuilder.attrs("perm", 0, 2, 1, 3)), r);
    }

    private String transformer(BertLayer u, String x, String mask) {
      List<String> s = u.actSites();
      String n = u.name() + ".attention.self";
      int hidden = u.query().outChannels();
      int d = hidden / u.heads();
      String xq = site(s.get(0), x);
      String q = splitHeads(linear(u.query(), xq), u.heads(), d, n + ".query.heads");
      String k = splitHeads(linear(u.key(), xq), u.heads(), d, n + ".key.heads");
      String v = splitHeads(linear(u.value(), xq), u.heads(), d, n + ".value.heads");
      q = site(s.get(1), q);
      k = site(s.get(2), k);
      String kt = g.op("Transpose", n + ".key_t", List.of(GraphBuilder.attrs("perm", 0, 1, 3, 2)),
          k);
      String scores = g.op("MatMul", n + ".scores", q, kt);
      scores = g.op("Mul", n + ".scaled_scores", scores,
          g.floatConst(n + ".scale", new float[] {(float) (1.0 / StrictMath.sqrt(d))}));
      scores = g.op("Add", n + ".masked_scores", scores, mask);
      String probs = g.op("Softmax", n + ".softmax", List.of(GraphBuilder.attr("axis", -1)),
          scores);
      probs = site(s.get(3), probs);
      v = site(s.get(4), v);
      String ctx = g.op("MatMul", n + ".context_heads", probs, v);
      ctx = g.op("Transpose", n + ".context_t", List.of(GraphBuilder.attrs("perm", 0, 2, 1, 3)),
          ctx);
      ctx = g.op("Reshape", n + ".context", ctx, g.int64Const(n + ".context_shape", 0, 0,
          hidden));
      ctx = site(s.get(5), ctx);
      String a = layerNorm(g.op("Add", u.name() + ".attention.output.residual",
          linear(u.attnOut(), ctx), x), u.ln1Weight(), u.ln1Bias(), u.eps(),
          u.name() + ".attention.output.LayerNorm");
      String inter = gelu(linear(u.intermediate(), site(s.get(6), a)),
          u.name() + ".intermediate.gelu");
      inter = site(s.get(7), inter);
      return layerNorm(g.op("Add", u.name() + ".output.residual", linear(u.output(), inter), a),
          u.ln2Weight(), u.ln2Bias(), u.eps(), u.name() + ".output.LayerNorm");
    }

    /** 0.5·x·(1 + Erf(x·(1/√2))), the erf GELU. */
    private String gelu(String x, String name) {
      String r = g.op("Mul", name + ".scaled", x,
          g.floatConst(name + ".inv_sqrt2", new float[] {(float) (1.0 / StrictMath.sqrt(2.0))}));
      String erf = g.op("Erf", name + ".erf", r);
      String one = g.op("Add", name + ".one_plus", erf,
          g.floatConst(name + ".one", new float[] {1f}));
      String half = g.op("Mul", name + ".half_x", x,
          g.floatConst(name + ".half", new float[] {0.5f}));
      return g.op("Mul", name, half, one);
    }

    /** classifier(tanh(pooler(h[:, 0]))) with QDQ at both layers' inputs. */
    private String bertHead(BertClassifierHead hd, String h) {
      Linear p = hd.pooler();
      Linear c = hd.classifier();
      int hidden = p.weight().value().dim(1);
      String cls = g.op("Gather", "bert.pooler.cls_token", List.of(GraphBuilder.attr("axis", 1)),
          h, g.int64Const("bert.pooler.cls_index", 0));
      cls = g.op("Reshape", "bert.pooler.cls", cls, g.int64Const("bert.pooler.cls_shape", 0,
          hidden));
      String pooled = g.gemm(site(p.name(), cls), weight(p), bias(p), p.name());
      pooled = g.op("Tanh", p.name() + ".tanh", pooled);
      return g.gemm(site(c.name(), pooled), weight(c), bias(c), c.name());
    }

    private static float[] data(Var v) {
      return v.value().contiguous().data();
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
      return weight(l, false);
    }

    /**
     * The weight operand; {@code transposed} stores a 2-D weight (out, in) as (in, out) with the
     * per-channel axis 1, as MatMul takes it (the BERT graph: no Transpose after the
     * DequantizeLinear, so that a runtime sees the DequantizeLinear → MatMul pattern).
     */
    private String weight(Layer l, boolean transposed) {
      WeightQuantizer q = state.weight(l.name());
      int[] shape = l.weight().shape();
      int[] stored = transposed ? new int[] {shape[1], shape[0]} : shape;
      int axis = transposed ? 1 : 0;
      if (q == null) {
        float[] w = l.weight().value().contiguous().data();
        return g.floatInit(l.name() + ".weight", transposed ? transpose(w, shape[0], shape[1])
            : w, stored);
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
      // the BERT MatMuls keep 8-bit asymmetric weights as levels: ONNX Runtime fuses
      // DequantizeLinear → MatMul into MatMulIntegerToFloat, which rejects INT32 weights
      if (encoding == WeightEncoding.LEVELS || s.symmetric() || (transposed && s.bits() == 8)) {
        DataType t = intType(s);
        String qn = g.intInit(l.name() + ".weight_int", t,
            transposed ? transpose(levels, c, cs) : levels, stored);
        String zn = g.intInit(l.name() + ".weight_zero_point", t, zp, c);
        return g.dequantize(qn, sn, zn, axis, l.name() + ".weight");
      }
      int[] centred = new int[levels.length];
      for (int i = 0; i < levels.length; i++) {
        centred[i] = levels[i] - zp[i / cs];
      }
      if (transposed) {
        centred = transpose(centred, c, cs);
      }
      if (s.bits() <= 7) {
        String qn = g.intInit(l.name() + ".weight_int", DataType.INT8, centred, stored);
        String zn = g.intInit(l.name() + ".weight_zero_point", DataType.INT8, new int[c], c);
        return g.dequantize(qn, sn, zn, axis, l.name() + ".weight");
      }
      String qn = g.intInit(l.name() + ".weight_int", DataType.INT32, centred, stored);
      return g.dequantize(qn, sn, null, axis, l.name() + ".weight");
    }

    private static int[] transpose(int[] a, int rows, int cols) {
      int[] t = new int[a.length];
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < cols; k++) {
          t[k * rows + r] = a[r * cols + k];
        }
      }
      return t;
    }

    private static float[] transpose(float[] a, int rows, int cols) {
      float[] t = new float[a.length];
      for (int r = 0; r < rows; r++) {
        for (int k = 0; k < cols; k++) {
          t[k * rows + r] = a[r * cols + k];
        }
      }
      return t;
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
