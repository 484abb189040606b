package org.qlimit.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.qlimit.io.MalformedFileException;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * Conversion between safetensors files and {@link StateDict}s with PyTorch names.
 *
 * <p>Floating-point tensors (F32, F16, BF16) load as float tensors. Integer tensors are accepted
 * only for BatchNorm's {@code num_batches_tracked} counters, which evaluation does not need; any
 * other integer tensor is an error naming it.
 *
 * <p>Values are checked here, once, as they are read: a NaN or ±Inf in any floating-point tensor,
 * or a negative value in a BatchNorm {@code running_var}, is a {@link MalformedFileException}
 * naming the file, the tensor and the first bad index (flat, row-major, with its element
 * coordinates), e.g. {@code resnet20.safetensors: tensor layer2.1.conv1.weight has NaN at index
 * 868 (element [3, 0, 1, 1] of shape [32, 32, 3, 3])}. Subnormal values are finite and accepted
 * as they are (F32 keeps them; F16/BF16 subnormals widen exactly), as PyTorch does.
 */
public final class Checkpoints {
  private Checkpoints() {}

  public static StateDict read(Path file) throws IOException {
    SafeTensorsFile f = SafeTensors.read(file);
    StateDict sd = new StateDict(file.toString());
    for (TensorEntry e : f.entries()) {
      if (e.dtype().isFloating()) {
        float[] v = e.asFloats();
        requireValid(file, e, v);
        sd.put(e.name(), Tensor.of(v, e.intShape()));
      } else if (!e.name().endsWith("num_batches_tracked") && !e.name().endsWith("position_ids")
          && !e.name().endsWith("token_type_ids")) {
        // (skipped above: the integer buffers BatchNorm's step counter and BERT's position and
        // token-type ids, which carry no weights)
        throw new IllegalArgumentException(file + ": tensor '" + e.name() + "' has dtype "
            + e.dtype() + "; model weights must be floating point");
      }
    }
    return sd;
  }

  /**
   * Throws when {@code values} (the content of {@code e}) hold a NaN or ±Inf, or when {@code e}
   * is a BatchNorm running variance with a negative value (−0.0 is accepted).
   *
   * @param values the tensor's values, row-major. Not modified.
   * @throws MalformedFileException naming the file, the tensor, the value and its first index
   */
  public static void requireValid(Path file, TensorEntry e, float[] values)
      throws MalformedFileException {
    int bad = Check.firstNonFinite(values);
    if (bad >= 0) {
      throw new MalformedFileException(file, "tensor " + e.name() + " has "
          + Check.describe(values[bad]) + " at index " + at(e, bad));
    }
    if (e.name().endsWith("running_var")) {
      for (int i = 0; i < values.length; i++) {
        if (values[i] < 0f) {
          throw new MalformedFileException(file, "tensor " + e.name()
              + " has a negative variance " + values[i] + " at index " + at(e, i)
              + " (a BatchNorm running variance is >= 0)");
        }
      }
    }
  }

  /** "868 (element [3, 0, 1, 1] of shape [32, 16, 3, 3])" for a flat index of a tensor. */
  private static String at(TensorEntry e, int flat) {
    long[] shape = e.shape();
    if (shape.length <= 1) {
      return Integer.toString(flat);
    }
    long[] coord = new long[shape.length];
    long rest = flat;
    for (int d = shape.length - 1; d >= 0; d--) {
      coord[d] = rest % shape[d];
      rest /= shape[d];
    }
    return flat + " (element " + Arrays.toString(coord) + " of shape " + Arrays.toString(shape)
        + ")";
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
