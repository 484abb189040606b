package org.qlimit.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qlimit.io.MalformedFileException;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.trace.TraceComparison;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qlimit compare}: two traces tensor by tensor. Exit code 0 when every tensor is equal
 * within the tolerances, 1 otherwise, 2 for a file that cannot be compared (one line naming it).
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compare two traces (qlimit trace, or a back end's dump with the same tensor "
        + "names) tensor by tensor in network order: elements that differ, the largest "
        + "difference (in quantization steps for integer tensors), and the first diverging "
        + "tensor. Exit code 0 when equal within the tolerances, 1 when not, 2 for files that "
        + "cannot be compared."})
final class CompareCommand implements Callable<Integer>, Validated {
  @Parameters(index = "0", paramLabel = "A", description = "first trace (safetensors)")
  Path a;

  @Parameters(index = "1", paramLabel = "B", description = "second trace (safetensors)")
  Path b;

  @Option(names = "--tolerance", defaultValue = "0", paramLabel = "STEPS",
      description = "integer tensors: largest difference in steps that counts as equal "
          + "(default 0)")
  long tolerance;

  @Option(names = "--logit-tolerance", defaultValue = "0", paramLabel = "X",
      description = "float tensors (logits): largest absolute difference that counts as equal "
          + "(default 0)")
  double logitTolerance;

  @Option(names = "--only-common", description = "compare the tensors both files hold and list "
      + "the others, instead of refusing files that do not hold the same tensors (a back end "
      + "that dumps more, or fewer, intermediate values)")
  boolean onlyCommon;

  @Override
  public void validate() {
    if (tolerance < 0) {
      throw new IllegalArgumentException("--tolerance must be >= 0 steps, got " + tolerance);
    }
    if (!(logitTolerance >= 0) || Double.isInfinite(logitTolerance)) {
      throw new IllegalArgumentException("--logit-tolerance must be a finite value >= 0, got "
          + logitTolerance);
    }
  }

  private static SafeTensorsFile read(Path p) throws IOException {
    if (!Files.isRegularFile(p)) {
      throw new UsageError("trace " + p + " not found");
    }
    try {
      return SafeTensors.read(p);
    } catch (MalformedFileException e) {
      throw new UsageError(e.getMessage());
    }
  }

  /** One line naming the tensors only {@code file} holds, when there are any. */
  private static void notCompared(Path file, java.util.List<String> names) {
    if (!names.isEmpty()) {
      System.out.printf(Locale.ROOT, "not compared: %d %s only in %s: %s%n", names.size(),
          names.size() == 1 ? "tensor" : "tensors", file, String.join(", ", names));
    }
  }

  @Override
  public Integer call() throws Exception {
    SafeTensorsFile fa = read(a);
    SafeTensorsFile fb = read(b);
    TraceComparison.Result r;
    try {
      r = TraceComparison.compare(fa, fb, tolerance, logitTolerance, onlyCommon);
    } catch (TraceComparison.MalformedTrace e) {
      throw new UsageError(e.getMessage());
    }
    int w = 6;
    for (TraceComparison.TensorDiff d : r.tensors()) {
      w = Math.max(w, d.name().length());
    }
    System.out.printf(Locale.ROOT, "%-" + w + "s %12s %12s %12s  %s%n", "tensor", "elements",
        "differ", "beyond tol", "max |Δ|");
    for (TraceComparison.TensorDiff d : r.tensors()) {
      long steps = (long) d.maxDiff();
      String max = d.integer() ? steps + (steps == 1 ? " step" : " steps")
          : String.format(Locale.ROOT, "%.3g", d.maxDiff());
      System.out.printf(Locale.ROOT, "%-" + w + "s %12d %12d %12d  %s%n", d.name(), d.elements(),
          d.differing(), d.beyond(), max);
    }
    notCompared(a, r.onlyInA());
    notCompared(b, r.onlyInB());
    if (r.equalWithinTolerance()) {
      System.out.printf(Locale.ROOT, "equal within tolerance (%d %s, logits %s): %d tensors%n",
          tolerance, tolerance == 1 ? "step" : "steps", logitTolerance, r.tensors().size());
      return 0;
    }
    TraceComparison.TensorDiff f = r.tensors().stream()
        .filter(d -> d.name().equals(r.firstDiverging())).findFirst().orElseThrow();
    System.out.printf(Locale.ROOT, "first diverging tensor: %s (%d of %d elements differ by "
            + "more than the tolerance)%n", f.name(), f.beyond(), f.elements());
    return 1;
  }
}
