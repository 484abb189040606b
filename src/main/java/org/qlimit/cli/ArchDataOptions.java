package org.qlimit.cli;

import java.nio.file.Path;
import org.qlimit.data.Datasets;
import org.qlimit.data.TextDatasets;
import org.qlimit.model.Architectures;
import org.qlimit.util.Check;
import picocli.CommandLine.Option;

/**
 * The architecture and the dataset a command works on: {@code --arch}, {@code --data} and
 * {@code --data-dir}, resolved by {@link Architectures} and {@link Datasets#load}. A picocli
 * mixin; {@link ModelDataOptions} adds the checkpoint for commands that read one.
 */
class ArchDataOptions implements Validated {
  @Option(names = "--arch", required = true, description = "architecture (see 'qlimit archs')")
  String arch;

  @Option(names = "--data", required = true, description = "fashion-mnist, cifar10, imagefolder, or the text sets sst2 and trec "
      + "(for --arch bert)")
  String data;

  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "dataset folder (default for fashion-mnist: the embedded copy in datasets/, "
          + "whose training split is a 5,000-image subset; required for cifar10 and imagefolder)")
  Path dataDir;

  @Override
  public void validate() {
    Check.arg(Architectures.names().contains(arch), "--arch: unknown architecture '%s'; known: %s",
        arch, String.join(", ", Architectures.names()));
    Check.arg(Datasets.isKnown(data) || TextDatasets.isKnown(data),
        "--data: unknown dataset '%s' (known: %s, %s)", data, String.join(", ", Datasets.NAMES),
        String.join(", ", TextDatasets.NAMES));
    Check.arg(arch.equals("bert") == TextDatasets.isKnown(data),
        "--arch %s does not read --data %s (the text sets %s go with --arch bert)", arch, data,
        String.join(", ", TextDatasets.NAMES));
  }
}
