package org.qlimit.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * A trained checkpoint and the data to run it on: {@code --model} plus the options of
 * {@link ArchDataOptions}. A picocli mixin for the commands that read a model ({@code quantize},
 * {@code eval}, {@code mixed}, {@code mixed-sweep}).
 */
final class ModelDataOptions extends ArchDataOptions {
  @Option(names = "--model", required = true, paramLabel = "FILE",
      description = "safetensors checkpoint with PyTorch parameter names")
  Path model;
}
