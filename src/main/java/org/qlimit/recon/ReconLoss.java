package org.qlimit.recon;

import java.util.Locale;

/**
 * The reconstruction loss of the phases that use a squared error (BRECQ's weight phase, QDrop's
 * joint phase; ALGORITHMS.md §4).
 */
public enum ReconLoss {
  /** Squared error summed over channels, averaged over batch and positions (the default). */
  MSE,
  /**
   * BRECQ's diagonal-Fisher loss (reference {@code rec_loss='fisher_diag'}): the squared error of
   * each output element weighted by (|g| + 1)², g the gradient of the KL divergence between the
   * FP and the quantized network's predictions at the unit's output (§4, {@link FisherWeights}).
   */
  FISHER_DIAG;

  /** Parses a command-line name (mse, fisher-diag), case-insensitive. */
  public static ReconLoss parse(String s) {
    String k = s.trim().toLowerCase(Locale.ROOT);
    return switch (k) {
      case "mse" -> MSE;
      case "fisher-diag" -> FISHER_DIAG;
      default -> throw new IllegalArgumentException(
          "unknown loss '" + s + "'; choose one of mse, fisher-diag");
    };
  }

  public String cliName() {
    return this == MSE ? "mse" : "fisher-diag";
  }
}
