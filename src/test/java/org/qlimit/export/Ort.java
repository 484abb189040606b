package org.qlimit.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.tensor.Tensor;

/**
 * An exported model in ONNX Runtime (Java binding, test scope): logits and, when the model was
 * exported with site outputs, the sites' integer tensors for a batch of normalised images.
 */
public final class Ort implements AutoCloseable {
  /** ORT's graph optimisation levels as used by the tests: off, and ORT's default (all). */
  public enum Level {
    OFF(OrtSession.SessionOptions.OptLevel.NO_OPT),
    DEFAULT(OrtSession.SessionOptions.OptLevel.ALL_OPT);

    final OrtSession.SessionOptions.OptLevel ort;

    Level(OrtSession.SessionOptions.OptLevel ort) {
      this.ort = ort;
    }
  }

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;

  /**
   * A session on {@code model} at {@code level}, one intra-op thread (deterministic sums);
   * {@code optimizedModel}, when not null, receives the graph ORT runs after its optimisations.
   */
  public Ort(ModelProto model, Level level, Path optimizedModel) throws OrtException {
    try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
      so.setOptimizationLevel(level.ort);
      so.setIntraOpNumThreads(1);
      so.setInterOpNumThreads(1);
      if (optimizedModel != null) {
        so.setOptimizedModelFilePath(optimizedModel.toString());
      }
      session = env.createSession(model.toByteArray(), so);
    }
  }

  /** Logits (n, classes) for images x (n, C, H, W). */
  public float[] logits(Tensor x) throws OrtException {
    return (float[]) run(x, List.of(OnnxExport.LOGITS)).get(OnnxExport.LOGITS);
  }

  /**
   * The named outputs for images x (n, C, H, W), in the order asked: F32 outputs as float[],
   * UINT8 outputs as int[] (0..255), INT8 outputs as int[] (−128..127).
   */
  public Map<String, Object> run(Tensor x, List<String> outputs) throws OrtException {
    float[] d = x.contiguous().data();
    long[] shape = new long[x.rank()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = x.dim(i);
    }
    Set<String> wanted = new LinkedHashSet<>(outputs);
    Map<String, Object> out = new LinkedHashMap<>();
    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(d), shape);
        OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, in), wanted)) {
      for (String name : outputs) {
        OnnxValue v = r.get(name).orElseThrow();
        OnnxTensor t = (OnnxTensor) v;
        switch (t.getInfo().type) {
          case FLOAT -> {
            FloatBuffer fb = t.getFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            out.put(name, a);
          }
          case UINT8, INT8 -> {
            ByteBuffer bb = t.getByteBuffer();
            boolean unsigned = t.getInfo().type == ai.onnxruntime.OnnxJavaType.UINT8;
            int[] a = new int[bb.remaining()];
            for (int i = 0; i < a.length; i++) {
              byte b = bb.get();
              a[i] = unsigned ? b & 0xff : b;
            }
            out.put(name, a);
          }
          default -> throw new IllegalStateException(name + ": unexpected type "
              + t.getInfo().type);
        }
      }
    }
    return out;
  }

  /**
   * Logits (n, classes) of a BERT graph for token ids and attention mask, each (n, l) row-major.
   */
  public float[] bertLogits(long[] ids, long[] mask, int n, int l) throws OrtException {
    long[] shape = {n, l};
    try (OnnxTensor a = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(ids), shape);
        OnnxTensor b = OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(mask), shape);
        OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT_IDS, a,
            OnnxExport.ATTENTION_MASK, b), Set.of(OnnxExport.LOGITS))) {
      FloatBuffer fb = ((OnnxTensor) r.get(OnnxExport.LOGITS).orElseThrow()).getFloatBuffer();
      float[] o = new float[fb.remaining()];
      fb.get(o);
      return o;
    }
  }

  @Override
  public void close() throws OrtException {
    session.close();
  }
}
