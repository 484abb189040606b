package org.qlimit.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qlimit.recon.Method;
import org.qlimit.recon.ReconConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit demo}: the README's main job on the embedded default: RTN, AdaRound, BRECQ and
 * QDrop on the reference ResNet-20 (Fashion-MNIST) at W2A4 and W2A2 with a reduced budget, ending
 * in a table.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "RTN, AdaRound, BRECQ and QDrop on the embedded ResNet-20 at W2A4 and W2A2 "
        + "(reduced budget), ending in a table.")
final class DemoCommand implements Callable<Integer>, Validated {
  @Option(names = "--out", defaultValue = "runs/demo", paramLabel = "DIR",
      description = "output folder (default ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--iters", defaultValue = "100", description = "iterations per unit "
      + "(default ${DEFAULT-VALUE})")
  int iters;

  @Option(names = "--calib", defaultValue = "256", description = "calibration images "
      + "(default ${DEFAULT-VALUE})")
  int calib;

  @Option(names = "--eval-limit", defaultValue = "2000", description = "test images to evaluate "
      + "(default ${DEFAULT-VALUE}; 0 = all 10,000)")
  int evalLimit;

  @Mixin Options options;

  @Override
  public void validate() {
    Validated.requireCalibAndEvalLimit(calib, evalLimit);
    Validated.requireFolder("--out", out);
    ReconConfig.defaults(Method.QDROP, 2, 4, iters);
  }

  @Override
  public Integer call() throws Exception {
    Path model = Path.of("datasets/models/resnet20_fmnist.safetensors");
    if (!model.toFile().isFile()) {
      throw new IllegalArgumentException("embedded model " + model + " not found; run the demo "
          + "from the repository root");
    }
    long t0 = System.nanoTime();
    int[][] settings = {{2, 4}, {2, 2}};
    Method[] methods = {Method.RTN, Method.ADAROUND, Method.BRECQ, Method.QDROP};
    List<String> rows = new ArrayList<>();
    Double fp = null;
    int evalImages = 0;
    double[][] top1 = new double[methods.length][settings.length];
    for (int si = 0; si < settings.length; si++) {
      for (int mi = 0; mi < methods.length; mi++) {
        Method m = methods[mi];
        int w = settings[si][0];
        int a = settings[si][1];
        Path dir = out.resolve(m.cliName() + "-w" + w + "a" + a);
        System.out.printf(Locale.ROOT, "%n=== %s W%dA%d ===%n", m.cliName(), w, a);
        ReconConfig rc = ReconConfig.defaults(m, w, a, iters)
            .withIters(iters, Math.max(1, iters / 4));
        QuantizeJob.Outcome o = QuantizeJob.run(new QuantizeJob.Spec(model, "resnet20-fmnist",
            "fashion-mnist", null, rc, calib, options.numerics(), evalLimit, dir, false, false),
            System.out, fp);
        fp = o.fpTop1();
        evalImages = o.evalImages();
        top1[mi][si] = o.top1();
      }
    }
    System.out.printf(Locale.ROOT, "%nResNet-20 on Fashion-MNIST, top-1 %% on %s (%d iters/unit "
        + "except RTN, %d calibration images)%n", evalLimit == 0 ? "all " + evalImages
        + " test images" : "the first " + evalImages + " test images", iters, calib);
    System.out.printf(Locale.ROOT, "%-10s %8s %8s%n", "method", "W2A4", "W2A2");
    System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", "fp32", fp, fp);
    for (int mi = 0; mi < methods.length; mi++) {
      System.out.printf(Locale.ROOT, "%-10s %8.2f %8.2f%n", methods[mi].cliName(), top1[mi][0],
          top1[mi][1]);
    }
    System.out.printf(Locale.ROOT, "%nfull results (result.json, quantized.safetensors, "
        + "manifest.json per run) in %s/ ; total %s%n", out,
        ProgressBar.time((System.nanoTime() - t0) / 1e9));
    rows.clear();
    return 0;
  }
}
