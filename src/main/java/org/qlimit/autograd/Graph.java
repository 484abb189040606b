package org.qlimit.autograd;

import java.util.ArrayList;
import java.util.List;
import org.qlimit.kernel.Kernels;
import org.qlimit.util.Check;

/**
 * A reverse-mode autograd tape: nodes are appended in execution order and {@link #backward}
 * visits them in exactly the reverse of that order. Nothing is ever iterated in hash order, so the
 * accumulation order of every gradient is fixed.
 *
 * <p>A graph also carries the {@link Kernels} that its functions compute with. A graph made with
 * {@link #inference(Kernels)} records nothing: the same forward code then runs without a tape.
 */
public final class Graph {

  /** The backward rule of one recorded node: reads the output gradient, accumulates into inputs. */
  @FunctionalInterface
  public interface Backward {
    void run();
  }

  private record Node(String op, Var out, Backward backward) {}

  private final Kernels kernels;
  private final boolean recording;
  private final List<Node> tape = new ArrayList<>();
  private boolean done;

  private Graph(Kernels kernels, boolean recording) {
    this.kernels = kernels;
    this.recording = recording;
  }

  /** A graph that records for backward. */
  public static Graph training(Kernels kernels) {
    return new Graph(kernels, true);
  }

  /** A graph that records nothing (inference). */
  public static Graph inference(Kernels kernels) {
    return new Graph(kernels, false);
  }

  public Kernels kernels() {
    return kernels;
  }

  public boolean recording() {
    return recording;
  }

  /** Number of recorded nodes. */
  public int size() {
    return tape.size();
  }

  /** True when a node must be recorded for an op with these inputs. */
  boolean needsGrad(Var... inputs) {
    if (!recording) {
      return false;
    }
    for (Var v : inputs) {
      if (v != null && v.requiresGrad()) {
        return true;
      }
    }
    return false;
  }

  /** Appends a node (called by {@link Functions}). */
  void record(String op, Var out, Backward backward) {
    Check.state(!done, "graph already ran backward; build a new graph per step");
    tape.add(new Node(op, out, backward));
  }

  /**
   * Runs backward from a scalar loss: seeds d(loss)/d(loss) = 1 and applies every node's rule in
   * reverse recording order. Gradients accumulate into Vars that require them.
   */
  public void backward(Var loss) {
    Check.arg(loss.value().numel() == 1, "backward: loss must be a scalar, got shape %s",
        java.util.Arrays.toString(loss.shape()));
    Check.arg(loss.requiresGrad(), "backward: loss does not depend on any parameter");
    Check.state(recording, "backward: graph was built for inference");
    Check.state(!done, "backward: already ran on this graph");
    loss.grad().data()[0] += 1f;
    for (int i = tape.size() - 1; i >= 0; i--) {
      tape.get(i).backward().run();
    }
    done = true;
    tape.clear();
  }
}
