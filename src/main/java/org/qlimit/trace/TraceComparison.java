package org.qlimit.trace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.util.Check;

/**
 * Tensor-by-tensor comparison of two traces ({@link Traces}): per tensor in network order, the
 * elements that differ and the largest difference, in quantization steps for integer tensors
 * (levels differ by whole steps) and in value for float tensors (logits).
 *
 * <p>The two files must hold the same tensor names with the same shapes, integer (I64, I32, I8,
 * U8, any mix) against integer and float against float; anything else is a
 * {@link MalformedTrace} naming the file and tensor. With {@code commonOnly}, tensors held by one
 * file only (a back end that dumps more, or fewer, intermediate values) are listed in the result
 * instead, and the tensors both hold are compared. Network order is the {@code order} metadata
 * of the first file that has it (a qlimit trace), else the first file's header order.
 */
public final class TraceComparison {
  private TraceComparison() {}

  /** A trace that cannot be compared: missing or extra tensors, shapes or types that differ. */
  public static final class MalformedTrace extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public MalformedTrace(String message) {
      super(message);
    }
  }

  /**
   * One tensor's comparison.
   *
   * @param elements element count
   * @param differing elements that differ at all
   * @param beyond elements that differ by more than the tolerance
   * @param maxDiff the largest |a − b| (steps for integer tensors; NaN where an element is NaN on one side only)
   * @param integer whether the tensor holds integers (levels)
   */
  public record TensorDiff(String name, long elements, long differing, long beyond,
      double maxDiff, boolean integer) {}

  /**
   * The comparison of two traces.
   *
   * @param tensors per tensor, network order
   * @param firstDiverging the first tensor in network order with an element beyond the
   *     tolerance, or null when none is
   * @param onlyInA tensors of the first file the second does not hold (not compared; empty unless
   *     {@code commonOnly})
   * @param onlyInB tensors of the second file the first does not hold (likewise)
   */
  public record Result(List<TensorDiff> tensors, String firstDiverging, List<String> onlyInA,
      List<String> onlyInB) {
    /** True when every element is within the tolerances. */
    public boolean equalWithinTolerance() {
      return firstDiverging == null;
    }
  }

  /**
   * Compares trace {@code a} with trace {@code b}.
   *
   * @param stepTolerance integer tensors: largest |Δ| in steps that counts as equal, ≥ 0
   * @param floatTolerance float tensors (logits): largest |Δ| that counts as equal, ≥ 0
   * @throws MalformedTrace when the files do not hold the same tensors
   */
  public static Result compare(SafeTensorsFile a, SafeTensorsFile b, long stepTolerance,
      double floatTolerance) {
    return compare(a, b, stepTolerance, floatTolerance, false);
  }

  /**
   * Compares trace {@code a} with trace {@code b}.
   *
   * @param stepTolerance integer tensors: largest |Δ| in steps that counts as equal, ≥ 0
   * @param floatTolerance float tensors (logits): largest |Δ| that counts as equal, ≥ 0
   * @param commonOnly compare the tensors both files hold and list the others in the result,
   *     instead of refusing files that do not hold the same tensors
   * @throws MalformedTrace when a tensor is held by one file only (unless {@code commonOnly}),
   *     when no tensor is held by both, or when a common tensor's shape or kind differs
   */
  public static Result compare(SafeTensorsFile a, SafeTensorsFile b, long stepTolerance,
      double floatTolerance, boolean commonOnly) {
    Check.arg(stepTolerance >= 0, "step tolerance must be >= 0, got %d", stepTolerance);
    Check.arg(floatTolerance >= 0, "float tolerance must be >= 0, got %s", floatTolerance);
    List<String> order = order(a, b);
    List<String> onlyInA = new ArrayList<>();
    List<String> onlyInB = new ArrayList<>();
    for (String n : b.names()) {
      if (!a.contains(n)) {
        if (!commonOnly) {
          throw new MalformedTrace(a.source() + ": tensor " + n + " is missing (it is in "
              + b.source() + "; compare the common tensors only with --only-common)");
        }
        onlyInB.add(n);
      }
    }
    for (String n : a.names()) {
      if (commonOnly && !b.contains(n)) {
        onlyInA.add(n);
      }
    }
    List<TensorDiff> out = new ArrayList<>();
    String first = null;
    for (String n : order) {
      if (commonOnly && !(a.contains(n) && b.contains(n))) {
        continue;
      }
      TensorEntry ea = a.find(n).orElseThrow(() -> new MalformedTrace(a.source()
          + ": tensor " + n + " is missing (it is in " + b.source() + ")"));
      TensorEntry eb = b.find(n).orElseThrow(() -> new MalformedTrace(b.source()
          + ": tensor " + n + " is missing (it is in " + a.source() + "; compare the common "
          + "tensors only with --only-common)"));
      if (!Arrays.equals(ea.shape(), eb.shape())) {
        throw new MalformedTrace("tensor " + n + " has shape " + Arrays.toString(ea.shape())
            + " in " + a.source() + " but " + Arrays.toString(eb.shape()) + " in "
            + b.source());
      }
      boolean fa = ea.dtype().isFloating();
      boolean fb = eb.dtype().isFloating();
      if (fa != fb) {
        throw new MalformedTrace("tensor " + n + " is " + ea.dtype() + " in " + a.source()
            + " but " + eb.dtype() + " in " + b.source() + " (integer against float)");
      }
      TensorDiff d = fa ? floats(n, ea.asFloats(), eb.asFloats(), floatTolerance)
          : ints(n, ea.asLongs(), eb.asLongs(), stepTolerance);
      out.add(d);
      if (first == null && d.beyond() > 0) {
        first = n;
      }
    }
    if (out.isEmpty()) {
      throw new MalformedTrace(a.source() + " and " + b.source() + " hold no tensor of the same "
          + "name");
    }
    return new Result(List.copyOf(out), first, List.copyOf(onlyInA), List.copyOf(onlyInB));
  }

  private static List<String> order(SafeTensorsFile a, SafeTensorsFile b) {
    for (SafeTensorsFile f : List.of(a, b)) {
      String o = f.metadata().get(Traces.ORDER);
      if (o != null && !o.isEmpty()) {
        List<String> names = List.of(o.split(",", -1));
        for (String n : names) {
          if (!f.contains(n)) {
            throw new MalformedTrace(f.source() + ": metadata order names tensor " + n
                + ", which the file does not hold");
          }
        }
        if (names.size() != f.size()) {
          throw new MalformedTrace(f.source() + ": metadata order lists " + names.size()
              + " tensors, the file holds " + f.size());
        }
        return names;
      }
    }
    return a.names();
  }

  private static TensorDiff ints(String n, long[] a, long[] b, long tol) {
    long diff = 0;
    long beyond = 0;
    long max = 0;
    for (int i = 0; i < a.length; i++) {
      long d = Math.abs(a[i] - b[i]);
      if (d != 0) {
        diff++;
        if (d > tol) {
          beyond++;
        }
        max = Math.max(max, d);
      }
    }
    return new TensorDiff(n, a.length, diff, beyond, max, true);
  }

  private static TensorDiff floats(String n, float[] a, float[] b, double tol) {
    long diff = 0;
    long beyond = 0;
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.floatToIntBits(a[i]) == Float.floatToIntBits(b[i])) {
        continue;
      }
      double d = Float.isNaN(a[i]) || Float.isNaN(b[i]) ? Double.NaN
          : Math.abs((double) a[i] - b[i]);
      if (d == 0) {
        continue; // +0 against −0
      }
      diff++;
      if (Double.isNaN(d) || d > tol) {
        beyond++;
      }
      max = Math.max(max, d); // NaN once any element is NaN on one side only
    }
    return new TensorDiff(n, a.length, diff, beyond, max, false);
  }
}
