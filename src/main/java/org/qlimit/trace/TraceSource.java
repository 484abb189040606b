package org.qlimit.trace;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.qlimit.io.TensorEntry;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * A way of running a quantized model that can report its activation sites: the fake-quantized
 * forward pass ({@link FakeQuantTrace}), the integer path ({@code integer.IntegerTrace}), or
 * another back end.
 *
 * <p>Naming contract (docs/onnx-export.md, "Traces"): the integer tensor of activation site S is
 * named S (qlimit's site name, as in quantized.safetensors and the ONNX graph, where it is the
 * value of the site's QuantizeLinear, or of the Clip after it below 8 bits) and holds the levels
 * q in [qmin, qmax] as I32, shape (N, C, H, W); the logits are {@code logits}, F32 (N, classes).
 */
public interface TraceSource {
  /** Name of the logits tensor. */
  String LOGITS = "logits";

  /** A short name of the path, written to the trace's metadata (e.g. {@code fake}). */
  String path();

  /**
   * Runs the images and returns every quantized site's integer tensor, then {@code logits}, in
   * network order.
   *
   * @param images normalised images (N, C, H, W). Not modified.
   */
  LinkedHashMap<String, TensorEntry> trace(Tensor images);

  /**
   * Runs {@code one} on images [0, b), [b, 2b), … and joins the batches' traces along the first
   * axis, so that a trace of many images needs the memory of one batch's forward pass.
   *
   * @param images normalised images (N, C, H, W). Not modified.
   * @param batch images per call, ≥ 1
   * @param one the trace of one batch: the same names, in the same order, for every batch, each
   *     tensor's first axis the batch
   * @throws IllegalStateException if two batches' traces do not have the same names
   */
  static LinkedHashMap<String, TensorEntry> inBatches(Tensor images, int batch,
      Function<Tensor, LinkedHashMap<String, TensorEntry>> one) {
    Check.arg(images.rank() == 4, "trace: images must be (N, C, H, W), got rank %d",
        images.rank());
    Check.arg(batch >= 1, "trace batch must be >= 1, got %d", batch);
    int n = images.dim(0);
    int[] s = images.shape();
    int per = s[1] * s[2] * s[3];
    float[] all = images.contiguous().data();
    LinkedHashMap<String, ByteArrayOutputStream> data = new LinkedHashMap<>();
    LinkedHashMap<String, TensorEntry> first = null;
    for (int from = 0; from < n; from += batch) {
      int to = Math.min(n, from + batch);
      Tensor x = Tensor.of(Arrays.copyOfRange(all, from * per, to * per), to - from, s[1], s[2],
          s[3]);
      LinkedHashMap<String, TensorEntry> t = one.apply(x);
      if (first == null) {
        first = t;
        for (String name : t.keySet()) {
          data.put(name, new ByteArrayOutputStream());
        }
      }
      Check.state(t.keySet().equals(first.keySet()), "trace: batch at image %d has tensors %s, "
          + "the first batch %s", from, t.keySet(), first.keySet());
      for (Map.Entry<String, TensorEntry> e : t.entrySet()) {
        data.get(e.getKey()).writeBytes(e.getValue().data());
      }
    }
    LinkedHashMap<String, TensorEntry> out = new LinkedHashMap<>();
    if (first == null) {
      return out;
    }
    for (TensorEntry e : first.values()) {
      long[] shape = e.shape().clone();
      shape[0] = n;
      out.put(e.name(), new TensorEntry(e.name(), e.dtype(), shape,
          data.get(e.name()).toByteArray()));
    }
    return out;
  }
}
