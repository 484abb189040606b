package org.qlimit.recon;

import java.security.MessageDigest;
import org.qlimit.quant.QDropMask;
import org.qlimit.util.Check;
import org.qlimit.util.Hashing;

/**
 * Every setting of a reconstruction run, validated on construction. Defaults follow
 * ALGORITHMS.md (§3, §4) and the reproduction protocol (§9). Build one by name:
 * {@code ReconConfig.builder(Method.QDROP, 2, 4).iters(2000).batchSize(32).build()}, or change
 * a few settings of an existing one with {@link #toBuilder}.
 *
 * @param method the method
 * @param wbits weight bits of the quantized layers (first/last layers use 8, §5)
 * @param abits activation bits, or 32 for unquantized activations
 * @param iters iterations per unit for weights (AdaRound, BRECQ phase 1, QDrop)
 * @param itersAct iterations per unit of BRECQ's activation phase
 * @param batchSize minibatch size
 * @param seed run seed (minibatches, QDrop masks)
 * @param keepProb QDrop's probability that an element keeps its quantized value (the reference's
 *     {@code drop_prob}, whose name says the opposite; 1 = never drop = "joint BRECQ")
 * @param roundLambda weight λ of the rounding regulariser (0.01; 0.1 MobileNetV2; 0.2 MNASNet)
 * @param warmup fraction of iterations before the regulariser starts
 * @param lrAlpha Adam learning rate of the rounding variables
 * @param lrActBrecq Adam learning rate of the activation steps in BRECQ's phase 2
 * @param lrActQdrop Adam learning rate of the activation steps in QDrop
 * @param actLossP exponent p of BRECQ's activation-phase loss
 * @param brecqActImages images for BRECQ-style sequential activation calibration (64)
 * @param qdropActImages images for QDrop's activation calibration (256)
 * @param granularity BRECQ's and QDrop's reconstruction unit (block; §4.4)
 * @param loss the reconstruction loss of BRECQ's weight phase and QDrop's joint phase (mse)
 */
public record ReconConfig(Method method, int wbits, int abits, int iters, int itersAct,
    int batchSize, long seed, float keepProb, double roundLambda, double warmup, float lrAlpha,
    float lrActBrecq, float lrActQdrop, double actLossP, int brecqActImages, int qdropActImages,
    Granularity granularity, ReconLoss loss) {

  public ReconConfig {
    Check.arg(method != null, "method is required");
    Check.arg(wbits >= 2 && wbits <= 8, "--wbits must be in 2..8, got %d", wbits);
    Check.arg((abits >= 2 && abits <= 8) || abits == 32,
        "--abits must be in 2..8, or 32 for unquantized activations; got %d", abits);
    Check.arg(iters >= 1 && iters <= 10_000_000, "--iters must be in 1..10^7, got %d", iters);
    Check.arg(itersAct >= 1 && itersAct <= 10_000_000, "--iters-act must be in 1..10^7, got %d",
        itersAct);
    Check.arg(batchSize >= 1, "batch size must be >= 1, got %d", batchSize);
    Check.arg(keepProb >= 0 && keepProb <= 1, "--keep-prob must be in [0, 1], got %s", keepProb);
    Check.arg(roundLambda >= 0 && roundLambda <= MAX_ROUND_LAMBDA,
        "--round-weight must be in [0, %s] (the papers use 0.01 to 0.2), got %s",
        (int) MAX_ROUND_LAMBDA, roundLambda);
    Check.arg(warmup >= 0 && warmup < 1, "warm-up must be in [0, 1), got %s", warmup);
    Check.arg(lrAlpha > 0 && lrActBrecq > 0 && lrActQdrop > 0, "learning rates must be positive");
    Check.arg(actLossP >= 1, "activation loss exponent must be >= 1, got %s", actLossP);
    Check.arg(brecqActImages >= 1 && qdropActImages >= 1, "calibration image counts must be >= 1");
    Check.arg(granularity != null && loss != null, "granularity and loss are required");
    boolean blockMethod = method == Method.BRECQ || method == Method.QDROP;
    Check.arg(granularity == Granularity.BLOCK || blockMethod,
        "--granularity %s: only brecq and qdrop have a reconstruction granularity (%s is %s)",
        granularity.cliName(), method.cliName(), method == Method.ADAROUND ? "layer-wise"
            : "not reconstructed");
    Check.arg(loss == ReconLoss.MSE || blockMethod,
        "--loss %s: only brecq and qdrop take a reconstruction loss option", loss.cliName());
    Check.arg(loss == ReconLoss.MSE || granularity != Granularity.LAYER,
        "--loss fisher-diag needs --granularity block, stage or net (its gradient is taken at "
            + "a unit's output, which a layer inside a block is not)");
  }

  /**
   * The largest rounding weight λ accepted: beyond it λ·Σ(1 − |2h − 1|^β) overflows float32
   * on large layers long before any useful setting (the papers use 0.01 to 0.2).
   */
  public static final double MAX_ROUND_LAMBDA = 1000;

  /** The defaults of ALGORITHMS.md for a method and bit widths, with {@code iters} per unit. */
  public static ReconConfig defaults(Method method, int wbits, int abits, int iters) {
    return builder(method, wbits, abits).iters(iters).itersAct(Math.max(1, iters / 4)).build();
  }

  /** A builder holding the defaults of ALGORITHMS.md (§3, §4, §9) for a method and bit widths. */
  public static Builder builder(Method method, int wbits, int abits) {
    return new Builder(method, wbits, abits);
  }

  /** A builder holding this configuration's settings. */
  public Builder toBuilder() {
    Builder b = new Builder(method, wbits, abits);
    b.iters = iters;
    b.itersAct = itersAct;
    b.batchSize = batchSize;
    b.seed = seed;
    b.keepProb = keepProb;
    b.roundLambda = roundLambda;
    b.warmup = warmup;
    b.lrAlpha = lrAlpha;
    b.lrActBrecq = lrActBrecq;
    b.lrActQdrop = lrActQdrop;
    b.actLossP = actLossP;
    b.brecqActImages = brecqActImages;
    b.qdropActImages = qdropActImages;
    b.granularity = granularity;
    b.loss = loss;
    return b;
  }

  public ReconConfig withIters(int it, int itAct) {
    return toBuilder().iters(it).itersAct(itAct).build();
  }

  public ReconConfig withSeed(long s) {
    return toBuilder().seed(s).build();
  }

  public ReconConfig withKeepProb(float p) {
    return toBuilder().keepProb(p).build();
  }

  public ReconConfig withRoundLambda(double l) {
    return toBuilder().roundLambda(l).build();
  }

  /**
   * Adds every setting to {@code md}, by name and in declaration order (the run checkpoint's key:
   * a checkpoint resumes only a run with the same settings).
   */
  public void updateDigest(MessageDigest md) {
    updateDigest(md, true);
  }

  /**
   * Adds every setting but the activation bits to {@code md}, in the order of
   * {@link #updateDigest(MessageDigest)}: the key of an AdaRound or BRECQ weight phase, which
   * does not read them (its forward passes leave activations unquantized), so that runs which
   * differ only in {@code abits} can share it.
   */
  public void updateWeightPhaseDigest(MessageDigest md) {
    updateDigest(md, false);
  }

  private void updateDigest(MessageDigest md, boolean withAbits) {
    Hashing.update(md, "method=" + method.cliName());
    long[] ints = {wbits, abits, iters, itersAct, batchSize, seed, brecqActImages, qdropActImages};
    String[] intNames = {"wbits", "abits", "iters", "itersAct", "batchSize", "seed",
        "brecqActImages", "qdropActImages"};
    for (int i = 0; i < ints.length; i++) {
      if (withAbits || i != 1) {
        Hashing.update(md, intNames[i] + "=" + ints[i]);
      }
    }
    double[] reals = {keepProb, roundLambda, warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP};
    String[] realNames = {"keepProb", "roundLambda", "warmup", "lrAlpha", "lrActBrecq",
        "lrActQdrop", "actLossP"};
    for (int i = 0; i < reals.length; i++) {
      // the exact bits, not a decimal rendering
      Hashing.update(md, realNames[i] + "=" + Long.toHexString(Double.doubleToLongBits(reals[i])));
    }
    Hashing.update(md, "granularity=" + granularity.cliName());
    Hashing.update(md, "loss=" + loss.cliName());
  }

  /** Named construction of a {@link ReconConfig}; {@link #build} validates. */
  public static final class Builder {
    private final Method method;
    private final int wbits;
    private final int abits;
    private int iters = 20_000;
    private int itersAct = 5_000;
    private int batchSize = 32;
    private long seed = 1005;
    private float keepProb = QDropMask.DEFAULT_PROB;
    private double roundLambda = 0.01;
    private double warmup = 0.2;
    private float lrAlpha = 1e-3f;
    private float lrActBrecq = 4e-4f;
    private float lrActQdrop = 4e-5f;
    private double actLossP = 2.4;
    private int brecqActImages = 64;
    private int qdropActImages = 256;
    private Granularity granularity = Granularity.BLOCK;
    private ReconLoss loss = ReconLoss.MSE;

    private Builder(Method method, int wbits, int abits) {
      this.method = method;
      this.wbits = wbits;
      this.abits = abits;
    }

    /** Iterations per unit for weights (AdaRound, BRECQ phase 1, QDrop); default 20,000. */
    public Builder iters(int v) {
      iters = v;
      return this;
    }

    /** Iterations per unit of BRECQ's activation phase; default 5,000. */
    public Builder itersAct(int v) {
      itersAct = v;
      return this;
    }

    /** Minibatch size; default 32. */
    public Builder batchSize(int v) {
      batchSize = v;
      return this;
    }

    /** Run seed; default 1005. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** QDrop's probability of keeping an element quantized; default 0.5. */
    public Builder keepProb(float v) {
      keepProb = v;
      return this;
    }

    /** Weight λ of the rounding regulariser; default 0.01. */
    public Builder roundLambda(double v) {
      roundLambda = v;
      return this;
    }

    /** Fraction of iterations before the rounding regulariser starts; default 0.2. */
    public Builder warmup(double v) {
      warmup = v;
      return this;
    }

    /** Adam learning rate of the rounding variables; default 1e-3. */
    public Builder lrAlpha(float v) {
      lrAlpha = v;
      return this;
    }

    /** Adam learning rate of the activation steps in BRECQ's phase 2; default 4e-4. */
    public Builder lrActBrecq(float v) {
      lrActBrecq = v;
      return this;
    }

    /** Adam learning rate of the activation steps in QDrop; default 4e-5. */
    public Builder lrActQdrop(float v) {
      lrActQdrop = v;
      return this;
    }

    /** Exponent p of BRECQ's activation-phase loss; default 2.4. */
    public Builder actLossP(double v) {
      actLossP = v;
      return this;
    }

    /** Images for BRECQ-style sequential activation calibration; default 64. */
    public Builder brecqActImages(int v) {
      brecqActImages = v;
      return this;
    }

    /** Images for QDrop's activation calibration; default 256. */
    public Builder qdropActImages(int v) {
      qdropActImages = v;
      return this;
    }

    /** BRECQ's and QDrop's reconstruction unit; default block. */
    public Builder granularity(Granularity v) {
      granularity = v;
      return this;
    }

    /** Reconstruction loss of BRECQ's weight phase and QDrop's joint phase; default mse. */
    public Builder loss(ReconLoss v) {
      loss = v;
      return this;
    }

    /**
     * The configuration.
     *
     * @throws IllegalArgumentException naming the first setting out of its range
     */
    public ReconConfig build() {
      return new ReconConfig(method, wbits, abits, iters, itersAct, batchSize, seed, keepProb,
          roundLambda, warmup, lrAlpha, lrActBrecq, lrActQdrop, actLossP, brecqActImages,
          qdropActImages, granularity, loss);
    }
  }

  public boolean quantizeActivations() {
    return abits != 32;
  }
}
