package org.qlimit.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;

/**
 * Conversion between safetensors files and {@link StateDict}s with PyTorch names.
 *
 * <p>Floating-point tensors (F32, F16, BF16) load as float tensors. Integer tensors are accepted
 * only for BatchNorm's {@code num_batches_tracked} counters, which evaluation does not need; any
 * other integer tensor is an error naming it.
 */
public final class Checkpoints {
  private Checkpoints() {}

  public static StateDict read(Path file) throws IOException {
    SafeTensorsFile f = SafeTensors.read(file);
    StateDict sd = new StateDict(file.toString());
    for (TensorEntry e : f.entries()) {
      if (e.dtype().isFloating()) {
        sd.put(e.name(), Tensor.of(e.asFloats(), e.intShape()));
      } else if (!e.name().endsWith("num_batches_tracked")) {
        throw new IllegalArgumentException(file + ": tensor '" + e.name() + "' has dtype "
            + e.dtype() + "; model weights must be floating point");
      }
    }
    return sd;
  }

  /** Writes a state dict as F32 safetensors, in the state dict's order. */
  public static void write(Path file, StateDict sd, Map<String, String> metadata)
      throws IOException {
    List<TensorEntry> entries = new ArrayList<>();
    for (String n : sd.names()) {
      Tensor t = sd.asMap().get(n).contiguous();
      long[] shape = new long[t.rank()];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = t.dim(i);
      }
      entries.add(TensorEntry.f32(n, shape, t.data()));
    }
    SafeTensors.write(file, entries, metadata);
  }
}
