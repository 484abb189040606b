package org.qlimit.cli;

import org.qlimit.model.Architectures;
import picocli.CommandLine.Command;

/** {@code qlimit archs}: the supported architectures. */
@Command(name = "archs", mixinStandardHelpOptions = true,
    description = "List the supported architectures.")
final class ArchsCommand implements Runnable {
  @Override
  public void run() {
    for (String n : Architectures.names()) {
      Architectures.Spec s = Architectures.get(n);
      System.out.printf("%-24s %-14s %s%n", n, s.dataset(), s.description());
    }
  }
}
