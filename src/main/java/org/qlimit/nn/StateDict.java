package org.qlimit.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * Named tensors in PyTorch {@code state_dict} naming ({@code layer1.0.conv1.weight}), kept in
 * insertion order. Model builders {@link #take} what they need with the expected shape; after
 * building, {@link #requireAllTaken()} rejects tensors the architecture does not use, so a
 * checkpoint for the wrong architecture fails loudly instead of loading half its weights.
 */
public final class StateDict {
  private final String source;
  private final Map<String, Tensor> tensors = new LinkedHashMap<>();
  private final Set<String> taken = new LinkedHashSet<>();
  private final Set<String> ignorable = new LinkedHashSet<>();

  public StateDict(String source) {
    this.source = source;
  }

  public String source() {
    return source;
  }

  public void put(String name, Tensor t) {
    Check.arg(!tensors.containsKey(name), "%s: duplicate tensor %s", source, name);
    tensors.put(name, t);
  }

  public boolean has(String name) {
    return tensors.containsKey(name);
  }

  public List<String> names() {
    return new ArrayList<>(tensors.keySet());
  }

  /** Marks names that may remain unused (e.g. {@code num_batches_tracked} buffers). */
  public void ignoreSuffix(String suffix) {
    for (String n : tensors.keySet()) {
      if (n.endsWith(suffix)) {
        ignorable.add(n);
      }
    }
  }

  /** Returns tensor {@code name}, which must have exactly {@code shape}. */
  public Tensor take(String name, int... shape) {
    Tensor t = tensors.get(name);
    if (t == null) {
      throw new IllegalArgumentException(source + ": missing tensor '" + name + "' (expected shape "
          + Arrays.toString(shape) + ")");
    }
    if (!t.hasShape(shape)) {
      throw new IllegalArgumentException(source + ": tensor '" + name + "' has shape "
          + Arrays.toString(t.shape()) + ", the architecture expects " + Arrays.toString(shape));
    }
    taken.add(name);
    return t;
  }

  /** Fails when tensors remain that the architecture did not take. */
  public void requireAllTaken() {
    List<String> extra = new ArrayList<>();
    for (String n : tensors.keySet()) {
      if (!taken.contains(n) && !ignorable.contains(n)) {
        extra.add(n);
      }
    }
    if (!extra.isEmpty()) {
      throw new IllegalArgumentException(source + ": " + extra.size()
          + " tensor(s) not used by this architecture (wrong --arch?): "
          + String.join(", ", extra.subList(0, Math.min(8, extra.size())))
          + (extra.size() > 8 ? ", ..." : ""));
    }
  }

  public Map<String, Tensor> asMap() {
    return java.util.Collections.unmodifiableMap(tensors);
  }
}
