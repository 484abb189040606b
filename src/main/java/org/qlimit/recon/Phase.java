package org.qlimit.recon;

/**
 * The optimisation phases of reconstruction (ALGORITHMS.md §4). Each owns its name (as unit
 * records and the log show it), its minibatch stream and what it learns, so a unit's optimiser
 * needs no flags.
 */
enum Phase {
  /** BRECQ phase 1 (§4.1): the unit's rounding, activations off, squared error. */
  WEIGHTS("weights", 1),
  /** BRECQ phase 2 (§4.1): the unit's activation steps, weights hard, loss with p = actLossP. */
  ACTIVATIONS("activations", 2),
  /** QDrop (§4.2): rounding and activation steps together, with dropping. */
  JOINT("joint", 3),
  /** The AdaRound baseline (§4.3): one layer's rounding. */
  LAYER("layer", 4);

  /** The name in unit records, checkpoints and the log. */
  final String label;
  /** The phase's share of the minibatch stream: unit index · 8 + streamId (section 7). */
  final int streamId;

  Phase(String label, int streamId) {
    this.label = label;
    this.streamId = streamId;
  }

  /** Whether the phase learns the rounding variables of the unit's layers. */
  boolean learnsRounding() {
    return this != ACTIVATIONS;
  }

  /** Whether the phase learns the steps of the unit's activation quantizers. */
  boolean learnsSteps(ReconConfig c) {
    return this == ACTIVATIONS || (this == JOINT && c.quantizeActivations());
  }

  /** The exponent p of the reconstruction loss |ŷ − y|^p (§4). */
  double lossExponent(ReconConfig c) {
    return this == ACTIVATIONS ? c.actLossP() : 2.0;
  }

  /**
   * Whether the loss is BRECQ's diagonal-Fisher one ({@code --loss fisher-diag}): in the phases
   * whose loss is otherwise the squared error of BRECQ and QDrop (weights, joint); BRECQ's
   * activation phase keeps its |ŷ − y|^p loss and the AdaRound baseline its squared error.
   */
  boolean fisherLoss(ReconConfig c) {
    return c.loss() == ReconLoss.FISHER_DIAG && (this == WEIGHTS || this == JOINT);
  }

  /** Iterations per unit. */
  int iterations(ReconConfig c) {
    return this == ACTIVATIONS ? c.itersAct() : c.iters();
  }

  /**
   * QDrop's way (§4.1, §4.2): minibatches drawn with replacement and dropping inside the unit;
   * otherwise BRECQ's (the first entries of a fresh permutation, no dropping).
   */
  boolean qdropSampling() {
    return this == JOINT;
  }
}
