package org.qlimit.cli;

import org.qlimit.util.Check;
import org.qlimit.util.NumericsConfig;
import picocli.CommandLine.Option;

/** Options shared by commands that compute. */
final class Options implements Validated {
  @Option(names = "--threads", paramLabel = "N",
      description = "worker threads (default: available processors); results do not depend on it")
  Integer threads;

  @Option(names = "--vector-bits", paramLabel = "BITS",
      description = "SIMD width 128, 256 or 512, or 0 for the scalar reference path "
          + "(default: the CPU's preferred width); results do not depend on it")
  Integer vectorBits;

  @Override
  public void validate() {
    Check.arg(threads == null || (threads >= 1 && threads <= 256),
        "--threads must be in 1..256, got %s", threads);
    Check.arg(vectorBits == null || vectorBits == 0 || vectorBits == 128 || vectorBits == 256
        || vectorBits == 512, "--vector-bits must be 0 (scalar), 128, 256 or 512, got %s",
        vectorBits);
  }

  NumericsConfig numerics() {
    NumericsConfig d = NumericsConfig.defaults();
    return new NumericsConfig(vectorBits == null ? d.vectorBits() : vectorBits,
        threads == null ? d.threads() : threads);
  }
}
