package org.qlimit.cli;

import org.qlimit.model.Architectures;
import org.qlimit.recon.ReconConfig;
import org.qlimit.util.Check;
import picocli.CommandLine.Option;

/**
 * {@code --round-weight}: the AdaRound rounding-regulariser weight λ, defaulting to the
 * architecture's (the references' per-model settings). A picocli mixin for {@code quantize},
 * {@code mixed} and {@code mixed-sweep}.
 */
final class RoundWeightOption implements Validated {
  @Option(names = "--round-weight", paramLabel = "L", description = "rounding-regulariser weight "
      + "λ (default: the architecture's, 0.1 for MobileNetV2, 0.2 for MNASNet, else 0.01; see "
      + "'qlimit archs')")
  Double value;

  @Override
  public void validate() {
    Check.arg(value == null || (value >= 0 && value <= ReconConfig.MAX_ROUND_LAMBDA),
        "--round-weight must be in [0, %s] (the papers use 0.01 to 0.2), got %s",
        (int) ReconConfig.MAX_ROUND_LAMBDA, value);
  }

  /** λ for architecture {@code arch}: the option when given, else the architecture's default. */
  double lambda(String arch) {
    return value != null ? value : Architectures.get(arch).roundLambda();
  }
}
