package org.qlimit.trace;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.TensorEntry;

/**
 * Trace files: safetensors holding, in network order, every quantized activation site's integer
 * tensor (I32, levels in [qmin, qmax]) and then {@code logits} (F32), for the first N images.
 * Metadata: {@code format} = {@value #FORMAT}, {@code order} (the tensor names in network order,
 * comma-separated, so that a dump written elsewhere in any order lines up), {@code path},
 * {@code images}, plus what the caller adds (arch, quantized_sha256).
 */
public final class Traces {
  private Traces() {}

  /** The {@code format} metadata value of a trace file. */
  public static final String FORMAT = "qlimit-trace-v1";

  /** The metadata key listing the tensor names in network order. */
  public static final String ORDER = "order";

  /**
   * Writes a trace.
   *
   * @param tensors name → tensor, in network order. Not modified.
   * @param extra metadata added after format, order, path and images. Not modified.
   */
  public static void write(Path file, String path, int images,
      LinkedHashMap<String, TensorEntry> tensors, Map<String, String> extra) throws IOException {
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", FORMAT);
    meta.put(ORDER, String.join(",", tensors.keySet()));
    meta.put("path", path);
    meta.put("images", Integer.toString(images));
    meta.putAll(extra);
    List<TensorEntry> entries = new ArrayList<>(tensors.values());
    SafeTensors.write(file, entries, meta);
  }
}
