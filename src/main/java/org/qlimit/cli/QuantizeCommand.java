package org.qlimit.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.qlimit.recon.Granularity;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconLoss;
import org.qlimit.run.QuantizationRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code qlimit quantize}: one method, one bit-width setting, results to a folder. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
    description = "Quantize a PyTorch-trained model with rtn, adaround, brecq or qdrop.")
final class QuantizeCommand implements Callable<Integer>, Validated {
  @Mixin
  ModelDataOptions input;

  @Option(names = "--method", required = true, description = "rtn, adaround, brecq or qdrop")
  String method;

  @Option(names = "--wbits", required = true, description = "weight bits, 2..8")
  int wbits;

  @Option(names = "--abits", required = true, description = "activation bits, 2..8, or 32 = FP")
  int abits;

  @Option(names = "--iters", defaultValue = "20000",
      description = "iterations per unit (default ${DEFAULT-VALUE})")
  int iters;

  @Option(names = "--iters-act", description = "BRECQ activation-phase iterations per unit "
      + "(default: iters/4)")
  Integer itersAct;

  @Option(names = "--calib", defaultValue = "1024",
      description = "calibration images: the first N training images (default ${DEFAULT-VALUE})")
  int calib;

  @Option(names = "--seed", defaultValue = "1005", description = "run seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = {"--keep-prob", "--drop-prob"}, defaultValue = "0.5",
      description = "QDrop: probability that an activation element keeps its quantized value "
          + "(the reference's drop_prob, whose name says the opposite; --drop-prob is accepted "
          + "as an alias); 1.0 = never drop (default ${DEFAULT-VALUE})")
  float keepProb;

  @Mixin
  RoundWeightOption roundWeight;

  @Option(names = "--granularity", defaultValue = "block",
      description = "brecq, qdrop: the reconstruction unit: layer, block, stage or net "
          + "(BRECQ's ablation; default ${DEFAULT-VALUE})")
  String granularity;

  @Option(names = "--loss", defaultValue = "mse",
      description = "brecq, qdrop: the reconstruction loss: mse, or fisher-diag (BRECQ's "
          + "squared error weighted by the diagonal Fisher factor (|g| + 1)^2 of the unit's "
          + "output; default ${DEFAULT-VALUE})")
  String loss;

  @Option(names = "--eval-limit", defaultValue = "0",
      description = "evaluate on the first N test images only (default: all)")
  int evalLimit;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
  Path out;

  @Option(names = "--resume", description = "continue the run whose per-unit checkpoint is in "
      + "--out (same options, model and data; threads and vector width may differ)")
  boolean resume;

  @Mixin
  Options options;

  @Spec
  CommandSpec spec;

  @Override
  public void validate() {
    Validated.requireCalibAndEvalLimit(calib, evalLimit);
    Validated.requireFolder("--out", out);
    reconConfig();
  }

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  /** The run's settings; IllegalArgumentException naming the option for a value out of range. */
  private ReconConfig reconConfig() {
    Method m;
    try {
      m = Method.parse(method);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--method: " + e.getMessage(), e);
    }
    Granularity gr;
    try {
      gr = Granularity.parse(granularity);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--granularity: " + e.getMessage(), e);
    }
    ReconLoss ls;
    try {
      ls = ReconLoss.parse(loss);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--loss: " + e.getMessage(), e);
    }
    return ReconConfig.defaults(m, wbits, abits, iters)
        .withIters(iters, itersAct == null ? Math.max(1, iters / 4) : itersAct)
        .withSeed(seed).withKeepProb(keepProb)
        .withRoundLambda(roundWeight.lambda(input.arch))
        .toBuilder().granularity(gr).loss(ls).build();
  }

  @Override
  public Integer call() throws Exception {
    ReconConfig rc = reconConfig();
    if (org.qlimit.data.TextDatasets.isKnown(input.data)) {
      return TextQuantizeJob.run(input.model, input.data, input.dataDir, rc, calib,
          options.numerics(), evalLimit, out);
    }
    // options given that the method does not use: say so rather than ignore them silently
    boolean brecqActPhase = rc.method() == Method.BRECQ && rc.quantizeActivations();
    if (!QuantizationRun.qdropDropping(rc) && given("--keep-prob")) {
      System.out.println("note: --keep-prob is used by qdrop with quantized activations only "
          + "(--abits below 32); ignored");
    }
    if (!brecqActPhase && given("--iters-act")) {
      System.out.println("note: --iters-act is used by brecq's activation phase only (brecq with "
          + "--abits below 32); ignored");
    }
    QuantizeJob.run(new QuantizeJob.Spec(input.model, input.arch, input.data,
        input.dataDir, rc, calib, options.numerics(), evalLimit, out, false, resume), System.out,
        null);
    return 0;
  }
}
