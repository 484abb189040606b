package org.qlimit.cli;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.qlimit.mixed.Sensitivity;
import org.qlimit.recon.LayerRounding;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Options shared by {@code mixed} and {@code mixed-sweep}. */
final class MixedOptions implements Validated {
  @Mixin
  ModelDataOptions input;

  @Option(names = "--method", required = true,
      description = "brecq or qdrop (also selects the weight observer of the sensitivities)")
  String method;

  @Option(names = "--wbits-choices", defaultValue = "2,3,4,8", split = ",",
      description = "candidate weight bit widths per layer, 2..8 (default ${DEFAULT-VALUE})")
  List<Integer> wbitsChoices;

  @Option(names = "--abits", defaultValue = "32",
      description = "activation bits, 2..8, or 32 = FP activations (default ${DEFAULT-VALUE})")
  int abits;

  @Option(names = "--sensitivity-acts", negatable = true, defaultValue = "false",
      description = "measure the sensitivities with the activations quantized to --abits "
          + "(each term an increase over the activations-only error); default: FP activations")
  boolean sensitivityActs;

  @Option(names = "--min-gain", defaultValue = "0.1", paramLabel = "G",
      description = "use the searched assignment only if its objective is at least this fraction "
          + "below the best uniform assignment that fits the budget; else keep that uniform one "
          + "(0 = the searched one unless a uniform one scores better; default "
          + "${DEFAULT-VALUE})")
  double minGain;

  @Option(names = "--sensitivity-weight", defaultValue = "plus-one", paramLabel = "W",
      description = "per-element weight of the block error: plus-one = (|g|+1)^2, BRECQ's "
          + "reconstruction weight; fisher = g^2, the diagonal Fisher estimate of the loss "
          + "increase, comparable across blocks (default ${DEFAULT-VALUE})")
  String sensitivityWeight;

  @Option(names = "--sensitivity-iters", defaultValue = "0", paramLabel = "N",
      description = "measure each (layer, width) after N iterations of AdaRound of that layer "
          + "against its block's output (batch, λ, warm-up, learning rate and seed of the run); "
          + "0 = nearest rounding (default ${DEFAULT-VALUE})")
  int sensitivityIters;

  @Option(names = "--iters", defaultValue = "20000",
      description = "reconstruction iterations per unit (default ${DEFAULT-VALUE})")
  int iters;

  @Option(names = "--calib", defaultValue = "1024",
      description = "calibration images (sentences for bert): the first N of the training split "
          + "(default ${DEFAULT-VALUE})")
  int calib;

  @Option(names = "--seed", defaultValue = "1005",
      description = "run seed: reconstruction and genetic search (default ${DEFAULT-VALUE})")
  long seed;

  @Mixin
  RoundWeightOption roundWeight;

  @Option(names = "--eval-limit", defaultValue = "0",
      description = "evaluate on the first N test images (or evaluation sentences) only "
          + "(default: all)")
  int evalLimit;

  @Option(names = "--cache-dir", defaultValue = ".qlimit-cache", paramLabel = "DIR",
      description = "folder of the sensitivity cache (default ${DEFAULT-VALUE})")
  Path cacheDir;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
  Path out;

  /**
   * Checks that each average-bit budget lies within the candidate widths (the smallest and the
   * largest of --wbits-choices); {@code option} names the option in the message.
   */
  void checkAverageBits(String option, double avg) {
    int[] c = choices();
    if (!(avg >= c[0] && avg <= c[c.length - 1])) {
      throw new IllegalArgumentException(option + " must be within the --wbits-choices range "
          + c[0] + ".." + c[c.length - 1] + ", got " + avg);
    }
  }

  /** What the calibration set holds: "sentences" for the text sets, else "images". */
  String calibrationItems() {
    return org.qlimit.data.TextDatasets.isKnown(input.data) ? "sentences" : "images";
  }

  /** Activation bits of the sensitivity measurement: --abits with --sensitivity-acts, else 32. */
  int sensitivityAbits() {
    return sensitivityActs ? abits : 32;
  }

  /** The reconstruction settings of the runs (λ from --round-weight, else the architecture's). */
  ReconConfig reconConfig(int wbits) {
    return ReconConfig.defaults(parsedMethod(), wbits, abits, iters).withSeed(seed)
        .withRoundLambda(roundWeight.lambda(input.arch));
  }

  /** How the sensitivities are measured. */
  Sensitivity.Options sensitivityOptions() {
    return new Sensitivity.Options(sensitivityAbits(), sensitivityIters == 0 ? null
        : LayerRounding.Settings.of(reconConfig(choices()[0]), sensitivityIters), weighting());
  }

  Sensitivity.Weighting weighting() {
    return switch (sensitivityWeight) {
      case "plus-one" -> Sensitivity.Weighting.PLUS_ONE;
      case "fisher" -> Sensitivity.Weighting.FISHER;
      default -> throw new IllegalArgumentException("--sensitivity-weight must be plus-one or "
          + "fisher, got " + sensitivityWeight);
    };
  }

  Method parsedMethod() {
    Method m = Method.parse(method);
    if (m != Method.BRECQ && m != Method.QDROP) {
      throw new IllegalArgumentException("--method must be brecq or qdrop for mixed precision, got "
          + method);
    }
    return m;
  }

  int[] choices() {
    int[] b = wbitsChoices.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    for (int v : b) {
      if (v < 2 || v > 8) {
        throw new IllegalArgumentException("--wbits-choices: widths must be in 2..8, got " + v);
      }
    }
    if (b.length == 0) {
      throw new IllegalArgumentException("--wbits-choices is empty");
    }
    return b;
  }

  @Override
  public void validate() {
    if (iters < 1 || iters > 10_000_000) {
      throw new IllegalArgumentException("--iters must be in 1..10^7, got " + iters);
    }
    if (sensitivityIters < 0) {
      throw new IllegalArgumentException("--sensitivity-iters must be >= 0, got "
          + sensitivityIters);
    }
    if (!(minGain >= 0 && minGain < 1)) { // NaN fails too
      throw new IllegalArgumentException("--min-gain must be in [0, 1), got " + minGain);
    }
    Validated.requireCalibAndEvalLimit(calib, evalLimit);
    Validated.requireFolder("--out", out);
    Validated.requireFolder("--cache-dir", cacheDir);
    if (!((abits >= 2 && abits <= 8) || abits == 32)) {
      throw new IllegalArgumentException("--abits must be in 2..8, or 32; got " + abits);
    }
    try {
      parsedMethod();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(e.getMessage().startsWith("--method") ? e.getMessage()
          : "--method: " + e.getMessage(), e);
    }
    choices();
    weighting();
  }

  @Override
  public String toString() {
    return input.arch + " " + method + " choices " + Arrays.toString(choices());
  }
}
