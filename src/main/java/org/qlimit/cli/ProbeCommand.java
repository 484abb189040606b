package org.qlimit.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code qlimit probe}: measurements of quantized models (subcommand {@code flatness}). */
@Command(name = "probe", mixinStandardHelpOptions = true,
    description = "Measure properties of quantized models.",
    subcommands = {FlatnessCommand.class})
final class ProbeCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
