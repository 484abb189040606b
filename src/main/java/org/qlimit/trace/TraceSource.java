package org.qlimit.trace;

import java.util.LinkedHashMap;
import org.qlimit.io.TensorEntry;
import org.qlimit.tensor.Tensor;

/**
 * A way of running a quantized model that can report its activation sites: the fake-quantized
 * forward pass ({@link FakeQuantTrace}), an integer path, or another back end.
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
}
