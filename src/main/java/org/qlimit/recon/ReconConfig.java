package org.qlimit.recon;

import org.qlimit.util.Check;

/**
 * Every setting of a reconstruction run, validated on construction. Defaults follow
 * ALGORITHMS.md (§3, §4) and the reproduction protocol (§9).
 *
 * @param method the method
 * @param wbits weight bits of the quantized layers (first/last layers use 8, §5)
 * @param abits activation bits, or 32 for unquantized activations
 * @param iters iterations per unit for weights (AdaRound, BRECQ phase 1, QDrop)
 * @param itersAct iterations per unit of BRECQ's activation phase
 * @param batchSize minibatch size
 * @param seed run seed (minibatches, QDrop masks)
 * @param dropProb QDrop's probability that an element keeps its quantized value (1 = no drop)
 * @param roundLambda weight λ of the rounding regulariser (0.01; 0.1 MobileNetV2; 0.2 MNASNet)
 * @param warmup fraction of iterations before the regulariser starts
 * @param lrAlpha Adam learning rate of the rounding variables
 * @param lrActBrecq Adam learning rate of the activation steps in BRECQ's phase 2
 * @param lrActQdrop Adam learning rate of the activation steps in QDrop
 * @param actLossP exponent p of BRECQ's activation-phase loss
 * @param brecqActImages images for BRECQ-style sequential activation calibration (64)
 * @param qdropActImages images for QDrop's activation calibration (256)
 */
public record ReconConfig(Method method, int wbits, int abits, int iters, int itersAct,
    int batchSize, long seed, float dropProb, double roundLambda, double warmup, float lrAlpha,
    float lrActBrecq, float lrActQdrop, double actLossP, int brecqActImages, int qdropActImages) {

  public ReconConfig {
    Check.arg(method != null, "method is required");
    Check.arg(wbits >= 2 && wbits <= 8, "--wbits must be in 2..8, got %d", wbits);
    Check.arg((abits >= 2 && abits <= 8) || abits == 32,
        "--abits must be in 2..8, or 32 for unquantized activations; got %d", abits);
    Check.arg(iters >= 1 && iters <= 10_000_000, "--iters must be in 1..10^7, got %d", iters);
    Check.arg(itersAct >= 1 && itersAct <= 10_000_000, "--iters-act must be in 1..10^7, got %d",
        itersAct);
    Check.arg(batchSize >= 1, "batch size must be >= 1, got %d", batchSize);
    Check.arg(dropProb >= 0 && dropProb <= 1, "--drop-prob must be in [0, 1], got %s", dropProb);
    Check.arg(Double.isFinite(roundLambda) && roundLambda >= 0,
        "--round-weight must be a finite number >= 0, got %s", roundLambda);
    Check.arg(warmup >= 0 && warmup < 1, "warm-up must be in [0, 1), got %s", warmup);
    Check.arg(lrAlpha > 0 && lrActBrecq > 0 && lrActQdrop > 0, "learning rates must be positive");
    Check.arg(actLossP >= 1, "activation loss exponent must be >= 1, got %s", actLossP);
    Check.arg(brecqActImages >= 1 && qdropActImages >= 1, "calibration image counts must be >= 1");
  }

  /** The defaults of ALGORITHMS.md for a method and bit widths. */
  public static ReconConfig defaults(Method method, int wbits, int abits, int iters) {
    return new ReconConfig(method, wbits, abits, iters, Math.max(1, iters / 4), 32, 1005, 0.5f,
        0.01, 0.2, 1e-3f, 4e-4f, 4e-5f, 2.4, 64, 256);
  }

  public ReconConfig withIters(int it, int itAct) {
    return new ReconConfig(method, wbits, abits, it, itAct, batchSize, seed, dropProb, roundLambda,
        warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP, brecqActImages, qdropActImages);
  }

  public ReconConfig withSeed(long s) {
    return new ReconConfig(method, wbits, abits, iters, itersAct, batchSize, s, dropProb,
        roundLambda, warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP, brecqActImages,
        qdropActImages);
  }

  public ReconConfig withDropProb(float p) {
    return new ReconConfig(method, wbits, abits, iters, itersAct, batchSize, seed, p, roundLambda,
        warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP, brecqActImages, qdropActImages);
  }

  public ReconConfig withRoundLambda(double l) {
    return new ReconConfig(method, wbits, abits, iters, itersAct, batchSize, seed, dropProb, l,
        warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP, brecqActImages, qdropActImages);
  }

  public boolean quantizeActivations() {
    return abits != 32;
  }
}
