package org.qlimit.cli;

import java.util.Locale;
import org.qlimit.model.Architectures;
import picocli.CommandLine.Command;

/** {@code qlimit archs}: the supported architectures. */
@Command(name = "archs", mixinStandardHelpOptions = true,
    description = {"List the supported architectures: name, dataset, default rounding-regulariser "
        + "weight λ, description."})
final class ArchsCommand implements Runnable {
  @Override
  public void run() {
    for (String n : Architectures.names()) {
      Architectures.Spec s = Architectures.get(n);
      System.out.printf(Locale.ROOT, "%-26s %-14s λ %-5s %s%n", n, s.dataset(),
          s.roundLambda(), s.description());
    }
  }
}
