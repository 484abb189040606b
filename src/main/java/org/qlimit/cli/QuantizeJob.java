package org.qlimit.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.UnitRecord;
import org.qlimit.run.QuantizationRun;
import org.qlimit.run.RunListener;
import org.qlimit.run.WeightPhase;
import org.qlimit.util.NumericsConfig;

/**
 * A {@link QuantizationRun} from the command line: the options of {@code quantize}, {@code demo}
 * and {@code mixed} become a run, its events become the log (settings, notes, a bar per unit and
 * per evaluation), and running out of memory becomes a one-line report ({@link OutOfMemory}).
 */
final class QuantizeJob {
  private QuantizeJob() {}

  /** Inputs of a run. */
  record Spec(Path modelFile, String arch, String dataset, Path dataDir, ReconConfig recon,
      int calib, NumericsConfig numerics, int evalLimit, Path out, boolean quiet,
      boolean resume) {}

  /**
   * What a run produced ({@code evalImages}: the test images top-1 was measured on;
   * {@code weightPhase}: an AdaRound or BRECQ run's weight phase, else null).
   */
  record Outcome(double fpTop1, double top1, double seconds, String sha256, Path resultFile,
      int evalImages, WeightPhase weightPhase) {}

  static Outcome run(Spec spec, PrintStream log, Double knownFpTop1) throws IOException {
    return run(spec, log, knownFpTop1, Map.of());
  }

  /**
   * A run with per-layer weight bit widths ({@code layerBits}: layer name → bits, overriding the
   * uniform rule for the layers it names; used by {@code mixed}).
   */
  static Outcome run(Spec spec, PrintStream log, Double knownFpTop1,
      Map<String, Integer> layerBits) throws IOException {
    return run(spec, log, knownFpTop1, layerBits, null);
  }

  /**
   * A run that starts from {@code reuse}, the weight phase of a run that differs from this one in
   * the activation bits only (null: learn it; see {@link WeightPhase}).
   */
  static Outcome run(Spec spec, PrintStream log, Double knownFpTop1,
      Map<String, Integer> layerBits, WeightPhase reuse) throws IOException {
    OutOfMemory.Watch watch = new OutOfMemory.Watch();
    watch.calib = spec.calib();
    QuantizationRun.Builder b = QuantizationRun.builder(spec.modelFile(), spec.arch(),
            spec.dataset())
        .dataDir(spec.dataDir()).recon(spec.recon()).calibration(spec.calib())
        .numerics(spec.numerics()).evalLimit(spec.evalLimit()).layerBits(layerBits)
        .out(spec.out()).resume(spec.resume())
        .listener(watch.following(spec.quiet() ? RunListener.NONE : new CliListener(log)));
    if (knownFpTop1 != null) {
      b.knownFpTop1(knownFpTop1);
    }
    if (reuse != null) {
      b.reuseWeightPhase(reuse);
    }
    QuantizationRun run = b.build();
    QuantizationRun.Result r;
    try {
      r = run.run();
    } catch (QuantizationRun.InputMismatch e) {
      throw new UsageError(e.getMessage());
    } catch (OutOfMemoryError e) {
      // the run's frame is gone: everything it allocated can be collected before the report
      throw watch.failure(e);
    }
    if (!spec.quiet()) {
      ReconConfig rc = run.recon();
      log.printf(Locale.ROOT, "%nFP top-1 %.2f %%  ->  %s W%sA%d top-1 %.2f %%  (%d test images, "
              + "%s)%nquantized_sha256 %s%nwrote %s, quantized.safetensors, manifest.json%n",
          r.fpTop1(), rc.method().cliName(), layerBits.isEmpty() ? Integer.toString(rc.wbits())
              : "mixed", rc.abits(), r.top1(), r.evalImages(), ProgressBar.time(r.seconds()),
          r.quantizedSha256(), r.resultFile());
    }
    return new Outcome(r.fpTop1(), r.top1(), r.seconds(), r.quantizedSha256(), r.resultFile(),
        r.evalImages(), r.weightPhase());
  }

  /** Prints the run's settings and notes, draws a bar per unit and per evaluation. */
  static final class CliListener implements RunListener {
    private final PrintStream log;
    private ProgressBar bar;
    private ProgressBar evalBar;
    private int every;

    CliListener(PrintStream log) {
      this.log = log;
    }

    @Override
    public void started(String description) {
      log.println("qlimit quantize: " + description);
    }

    @Override
    public void note(String line) {
      log.println(line);
    }

    @Override
    public void evaluating(String model, int done, int total) {
      if (done == 0) {
        evalBar = new ProgressBar(log, "eval " + model, total);
      } else {
        evalBar.update(done, "");
      }
    }

    @Override
    public void stage(String description) {
      log.println("  " + description);
    }

    @Override
    public void unitStart(int index, int count, String unit, String phase, int iters) {
      bar = new ProgressBar(log, String.format(Locale.ROOT, "%s %d/%d %s", phase.substring(0,
          Math.min(5, phase.length())), index + 1, count, unit), iters);
      every = iters >= 1000 ? 500 : iters >= 200 ? 100 : Math.max(1, iters / 2);
    }

    @Override
    public void iteration(int t, int iters, double loss, double rec, double round) {
      String s = String.format(Locale.ROOT, "loss %.4g", loss);
      bar.update(t, s);
      if (t % every == 0 && t < iters && System.console() != null) {
        bar.message(String.format(Locale.ROOT, "    iter %d/%d  loss %.5g (rec %.5g + round %.5g)",
            t, iters, loss, rec, round));
      }
    }

    @Override
    public void unitEnd(UnitRecord r) {
      if (r.isSkipped()) {
        log.printf(Locale.ROOT, "    %-12s %-11s skipped: %s%n", r.unit(), r.phase(), r.skipped());
        return;
      }
      log.printf(Locale.ROOT, "    %-12s %-11s loss %.5g -> %.5g  (%s)%n", r.unit(), r.phase(),
          r.lossBefore(), r.lossAfter(), ProgressBar.time(r.seconds()));
    }
  }
}
