package org.qlimit.integer;

import java.util.LinkedHashMap;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.IntKernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.trace.TraceSource;
import org.qlimit.util.Check;

/**
 * The integer path ({@link IntegerNetwork#trace}) as a {@link TraceSource}: every activation
 * site's levels (I32, N×C×H×W), named after the site as in quantized.safetensors and the ONNX
 * export, then {@code logits} (F32, N×classes). Images run in batches of {@code batch}; the
 * result does not depend on the batch size, the thread count or the vector width.
 */
public final class IntegerTrace implements TraceSource {
  private final IntegerNetwork net;
  private final IntKernels kernels;
  private final int batch;

  /**
   * @param net the compiled model
   * @param batch images per forward pass, ≥ 1
   */
  public IntegerTrace(IntegerNetwork net, IntKernels kernels, int batch) {
    Check.arg(batch >= 1, "trace batch must be >= 1, got %d", batch);
    this.net = net;
    this.kernels = kernels;
    this.batch = batch;
  }

  @Override
  public String path() {
    return "integer";
  }

  @Override
  public LinkedHashMap<String, TensorEntry> trace(Tensor images) {
    return TraceSource.inBatches(images, batch, x -> net.trace(kernels, x));
  }
}
