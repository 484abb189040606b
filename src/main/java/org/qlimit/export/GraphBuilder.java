package org.qlimit.export;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.qlimit.nn.Conv2d;
import org.qlimit.onnx.Onnx.AttributeProto;
import org.qlimit.onnx.Onnx.GraphProto;
import org.qlimit.onnx.Onnx.NodeProto;
import org.qlimit.onnx.Onnx.TensorProto;
import org.qlimit.onnx.Onnx.TensorProto.DataType;
import org.qlimit.onnx.Onnx.TensorShapeProto;
import org.qlimit.onnx.Onnx.TypeProto;
import org.qlimit.onnx.Onnx.ValueInfoProto;
import org.qlimit.util.Check;

/**
 * Appends ONNX nodes and initializers in execution order (the graph is topologically sorted as
 * ONNX requires). Every value name is defined once: a helper asked for a name already taken
 * gets the name with {@code #2}, {@code #3}, ... appended, and names fixed by the export
 * contract (sites, {@code input}, {@code logits}, initializers) are checked to be new.
 * Initializer data is written little-endian in {@code raw_data}, as the ONNX IR specifies.
 */
final class GraphBuilder {
  private final GraphProto.Builder graph = GraphProto.newBuilder();
  private final List<NodeProto.Builder> nodes = new ArrayList<>();
  // membership only, never iterated
  private final Set<String> defined = new HashSet<>();

  GraphBuilder(String name) {
    graph.setName(name);
  }

  GraphProto build() {
    for (NodeProto.Builder n : nodes) {
      graph.addNode(n);
    }
    return graph.build();
  }

  /** A graph input; a dim given as a String is symbolic. */
  void input(String name, DataType type, Object... dims) {
    define(name);
    graph.addInput(valueInfo(name, type, dims));
  }

  /** A graph output of an existing value; {@code dims} null leaves the shape to inference. */
  void output(String name, DataType type, Object... dims) {
    Check.arg(defined.contains(name), "ONNX export: output %s is not a value of the graph", name);
    graph.addOutput(valueInfo(name, type, dims));
  }

  /**
   * Renames the value {@code from} (produced by the last node that wrote it) to {@code to}.
   * Used to give the final node's output its contract name.
   */
  void rename(String from, String to) {
    define(to);
    for (int i = nodes.size() - 1; i >= 0; i--) {
      NodeProto.Builder n = nodes.get(i);
      for (int k = 0; k < n.getOutputCount(); k++) {
        if (n.getOutput(k).equals(from)) {
          n.setOutput(k, to);
          defined.remove(from);
          return;
        }
      }
    }
    throw new IllegalStateException("ONNX export: no node produces " + from);
  }

  private static ValueInfoProto valueInfo(String name, DataType type, Object... dims) {
    TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(type.getNumber());
    if (dims != null) {
      TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
      for (Object d : dims) {
        if (d instanceof String sym) {
          s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(sym));
        } else {
          s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
      }
      t.setShape(s);
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(t)).build();
  }

  private void define(String name) {
    Check.arg(defined.add(name), "ONNX export: value %s is defined twice", name);
  }

  /** {@code base}, or {@code base#k} for the smallest k ≥ 2 not yet used. */
  private String fresh(String base) {
    if (!defined.contains(base)) {
      defined.add(base);
      return base;
    }
    for (int k = 2;; k++) {
      String n = base + "#" + k;
      if (!defined.contains(n)) {
        defined.add(n);
        return n;
      }
    }
  }

  private NodeProto.Builder node(String op, String output, String... inputs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(output)
        .addOutput(output);
    for (String in : inputs) {
      n.addInput(in == null ? "" : in);
    }
    nodes.add(n);
    return n;
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
        .setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT)
        .setI(v).build();
  }

  // ---- initializers ----

  /** An F32 initializer of the given shape. */
  String floatInit(String name, float[] v, int... shape) {
    define(name);
    return addFloat(name, v, shape);
  }

  /** Adds an F32 initializer under a name already reserved. */
  private String addFloat(String name, float[] v, int... shape) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    graph.addInitializer(tensor(name, DataType.FLOAT, b.array(), shape));
    return name;
  }

  /** A rank-0 F32 initializer. */
  String floatScalar(String name, float v) {
    return floatInit(name, new float[] {v});
  }

  /**
   * A UINT8, INT8 or INT32 initializer; every value must fit the type.
   *
   * @param v values, one per element. Not modified.
   */
  String intInit(String name, DataType t, int[] v, int... shape) {
    define(name);
    byte[] b;
    if (t == DataType.INT32) {
      ByteBuffer bb = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
      for (int x : v) {
        bb.putInt(x);
      }
      b = bb.array();
    } else {
      Check.arg(t == DataType.UINT8 || t == DataType.INT8, "intInit: type %s", t);
      int lo = t == DataType.UINT8 ? 0 : -128;
      int hi = t == DataType.UINT8 ? 255 : 127;
      b = new byte[v.length];
      for (int i = 0; i < v.length; i++) {
        Check.arg(v[i] >= lo && v[i] <= hi, "ONNX export: %s[%d] = %d does not fit %s", name, i,
            v[i], t);
        b[i] = (byte) v[i];
      }
    }
    graph.addInitializer(tensor(name, t, b, shape));
    return name;
  }

  /** A rank-0 UINT8 or INT8 initializer. */
  String int8Scalar(String name, DataType t, int v) {
    return intInit(name, t, new int[] {v});
  }

  private static TensorProto tensor(String name, DataType t, byte[] raw, int... shape) {
    TensorProto.Builder tp = TensorProto.newBuilder().setName(name).setDataType(t.getNumber())
        .setRawData(ByteString.copyFrom(raw));
    for (int d : shape) {
      tp.addDims(d);
    }
    return tp.build();
  }

  // ---- operators (opset 13) ----

  /** QuantizeLinear(x, scale, zero point) → {@code out} (an exact contract name). */
  String quantize(String x, String scale, String zeroPoint, String out) {
    define(out);
    node("QuantizeLinear", out, x, scale, zeroPoint);
    return out;
  }

  /** Clip of an integer tensor to [lo, hi] (scalars of its type) → {@code out} (exact name). */
  String clipInt(String x, String lo, String hi, String out) {
    define(out);
    node("Clip", out, x, lo, hi);
    return out;
  }

  /**
   * DequantizeLinear(q, scale, zero point) → (q − z)·s in F32; {@code axis} ≥ 0 for a
   * per-channel scale along that axis, −1 for a per-tensor (scalar) one; {@code zeroPoint} null
   * for none (z = 0).
   */
  String dequantize(String q, String scale, String zeroPoint, int axis, String outBase) {
    String out = fresh(outBase);
    NodeProto.Builder n = zeroPoint == null ? node("DequantizeLinear", out, q, scale)
        : node("DequantizeLinear", out, q, scale, zeroPoint);
    if (axis >= 0) {
      n.addAttribute(intAttr("axis", axis));
    }
    return out;
  }

  /** Conv with the layer's stride, padding and groups; {@code b} null for no bias. */
  String conv(String x, String w, String b, Conv2d c) {
    String out = fresh(c.name() + ".output");
    NodeProto.Builder n = b == null ? node("Conv", out, x, w) : node("Conv", out, x, w, b);
    n.addAttribute(ints("kernel_shape", c.kernelH(), c.kernelW()));
    n.addAttribute(ints("strides", c.stride(), c.stride()));
    n.addAttribute(ints("pads", c.pad(), c.pad(), c.pad(), c.pad()));
    n.addAttribute(ints("dilations", 1, 1));
    n.addAttribute(intAttr("group", c.groups()));
    return out;
  }

  /** Gemm(x, w, b) with transB = 1: y = x·wᵀ + b. */
  String gemm(String x, String w, String b, String name) {
    String out = fresh(name + ".output");
    NodeProto.Builder n = b == null ? node("Gemm", out, x, w) : node("Gemm", out, x, w, b);
    n.addAttribute(intAttr("transB", 1));
    return out;
  }

  String relu(String x) {
    String out = fresh(x + ".relu");
    node("Relu", out, x);
    return out;
  }

  /** ReLU6 as Clip(x, 0, 6) in float. */
  String relu6(String x) {
    String lo = addFloat(fresh(x + ".relu6_min"), new float[] {0f});
    String hi = addFloat(fresh(x + ".relu6_max"), new float[] {6f});
    String out = fresh(x + ".relu6");
    node("Clip", out, x, lo, hi);
    return out;
  }

  String add(String a, String b) {
    String out = fresh(a + ".add");
    node("Add", out, a, b);
    return out;
  }

  String maxPool(String x, int k, int stride, int pad) {
    String out = fresh(x + ".maxpool");
    NodeProto.Builder n = node("MaxPool", out, x);
    n.addAttribute(ints("kernel_shape", k, k));
    n.addAttribute(ints("strides", stride, stride));
    n.addAttribute(ints("pads", pad, pad, pad, pad));
    return out;
  }

  String globalAveragePool(String x) {
    String out = fresh(x + ".pool");
    node("GlobalAveragePool", out, x);
    return out;
  }

  /** Flatten to (N, rest). */
  String flatten(String x) {
    String out = fresh(x + ".flatten");
    node("Flatten", out, x).addAttribute(intAttr("axis", 1));
    return out;
  }

  /**
   * ResNet's option-A shortcut ({@code Functions.subsamplePadChannels}): keep even rows and
   * columns (Slice with step 2 on axes 2 and 3), then zero-pad {@code padC} channels on each
   * side (Pad, constant 0).
   */
  String subsamplePadChannels(String x, int padC) {
    String base = x + ".shortcut";
    String starts = int64Init(fresh(base + ".starts"), 0, 0);
    String ends = int64Init(fresh(base + ".ends"), Long.MAX_VALUE, Long.MAX_VALUE);
    String axes = int64Init(fresh(base + ".axes"), 2, 3);
    String steps = int64Init(fresh(base + ".steps"), 2, 2);
    String sliced = fresh(base + ".subsampled");
    node("Slice", sliced, x, starts, ends, axes, steps);
    String pads = int64Init(fresh(base + ".pads"), 0, padC, 0, 0, 0, padC, 0, 0);
    String out = fresh(base);
    node("Pad", out, sliced, pads).addAttribute(AttributeProto.newBuilder().setName("mode")
        .setType(AttributeProto.AttributeType.STRING)
        .setS(ByteString.copyFromUtf8("constant")).build());
    return out;
  }

  /** A rank-1 INT64 initializer under a name already reserved by {@link #fresh}. */
  private String int64Init(String name, long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    graph.addInitializer(tensor(name, DataType.INT64, b.array(), v.length));
    return name;
  }

  // ---- generic operators (the BERT graph, opset 17) ----

  /**
   * A node of operator {@code type} on {@code inputs} (null for an omitted optional input), its
   * output named {@code outBase} (or {@code outBase#k} when taken), with {@code attrs}.
   */
  String op(String type, String outBase, List<AttributeProto> attrs, String... inputs) {
    String out = fresh(outBase);
    NodeProto.Builder n = node(type, out, inputs);
    for (AttributeProto a : attrs) {
      n.addAttribute(a);
    }
    return out;
  }

  /** {@link #op} without attributes. */
  String op(String type, String outBase, String... inputs) {
    return op(type, outBase, List.of(), inputs);
  }

  /** An INT attribute. */
  static AttributeProto attr(String name, long v) {
    return intAttr(name, v);
  }

  /** An INTS attribute. */
  static AttributeProto attrs(String name, long... v) {
    return ints(name, v);
  }

  /** A FLOAT attribute. */
  static AttributeProto floatAttr(String name, float v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
        .setF(v).build();
  }

  /** A rank-1 INT64 initializer named {@code base} (or {@code base#k}). */
  String int64Const(String base, long... v) {
    return int64Init(fresh(base), v);
  }

  /** An F32 initializer of shape {@code shape} named {@code base} (or {@code base#k}). */
  String floatConst(String base, float[] v, int... shape) {
    return addFloat(fresh(base), v, shape);
  }
}
