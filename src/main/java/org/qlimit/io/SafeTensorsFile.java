package org.qlimit.io;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The content of one safetensors file: its tensors in <b>header order</b> (the order of the JSON
 * entries as written in the file, kept with a LinkedHashMap) and its {@code __metadata__}.
 * Immutable; built by {@link SafeTensors#read}.
 *
 * <p>Lookups that fail ({@link #get}, {@link #require}) throw IllegalArgumentException whose
 * message names the file, the tensor and, for shapes, both shapes.
 */
public final class SafeTensorsFile {
  private final Path source;
  private final Map<String, TensorEntry> tensors;
  private final Map<String, String> metadata;

  SafeTensorsFile(Path source, LinkedHashMap<String, TensorEntry> tensors,
      LinkedHashMap<String, String> metadata) {
    this.source = source;
    this.tensors = Collections.unmodifiableMap(tensors);
    this.metadata = Collections.unmodifiableMap(metadata);
  }

  /** The file this was read from. */
  public Path source() {
    return source;
  }

  /** Tensor names in header order. */
  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  /** Tensors in header order. */
  public List<TensorEntry> entries() {
    return List.copyOf(tensors.values());
  }

  /** The {@code __metadata__} map (empty when absent), in header order. */
  public Map<String, String> metadata() {
    return metadata;
  }

  public int size() {
    return tensors.size();
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  public Optional<TensorEntry> find(String name) {
    return Optional.ofNullable(tensors.get(name));
  }

  /** The tensor with this name; throws IllegalArgumentException naming the file when absent. */
  public TensorEntry get(String name) {
    TensorEntry e = tensors.get(name);
    if (e == null) {
      throw new IllegalArgumentException(
          source + ": no tensor '" + name + "' (file has " + tensors.size() + " tensors)");
    }
    return e;
  }

  /**
   * The tensor with this name and exactly this shape; throws IllegalArgumentException naming the
   * file, the tensor, the expected and the actual shape otherwise.
   */
  public TensorEntry require(String name, long... expectedShape) {
    TensorEntry e = get(name);
    if (!Arrays.equals(e.shape(), expectedShape)) {
      throw new IllegalArgumentException(
          source + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape())
              + ", expected " + Arrays.toString(expectedShape));
    }
    return e;
  }

  @Override
  public String toString() {
    return "SafeTensorsFile[" + source + ", " + tensors.size() + " tensors]";
  }
}
