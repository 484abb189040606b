package org.qlimit.cli;

import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Option;

/** Options shared by commands that compute. */
final class Options {
  @Option(names = "--threads", paramLabel = "N",
      description = "worker threads (default: available processors); results do not depend on it")
  Integer threads;

  @Option(names = "--vector-bits", paramLabel = "BITS",
      description = "SIMD width 128, 256 or 512, or 0 for the scalar reference path "
          + "(default: the CPU's preferred width); results do not depend on it")
  Integer vectorBits;

  NumericsConfig numerics() {
    NumericsConfig d = NumericsConfig.defaults();
    return new NumericsConfig(vectorBits == null ? d.vectorBits() : vectorBits,
        threads == null ? d.threads() : threads);
  }
}
