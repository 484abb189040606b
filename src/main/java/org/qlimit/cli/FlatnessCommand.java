package org.qlimit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.FlatnessProbe;
import org.qlimit.recon.QuantExport;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code qlimit probe flatness}: the loss of quantized runs under seeded random perturbations of
 * their activations and weights ({@link FlatnessProbe}), written as flatness.json and
 * flatness.png.
 */
@Command(name = "flatness", mixinStandardHelpOptions = true,
    description = "Task loss of quantized runs (quantize --out folders) under seeded random "
        + "perturbations of activations and weights of growing magnitude (QDrop's flatness).")
final class FlatnessCommand implements Callable<Integer>, Validated {
  @Option(names = "--model", paramLabel = "FILE", description = "the FP checkpoint, instead of "
      + "the one the runs' manifest.json names")
  Path model;

  @Option(names = "--arch", description = "architecture; when given, it must be the runs' own "
      + "(manifest.json)")
  String arch;

  @Option(names = "--data", description = "dataset; when given, it must be the runs' own "
      + "(manifest.json)")
  String data;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "dataset folder, instead of "
      + "the one the runs' manifest.json names")
  Path dataDir;

  @Option(names = "--run", required = true, paramLabel = "DIR",
      description = "a quantize output folder (quantized.safetensors, result.json); repeat the "
          + "option to compare runs")
  List<Path> runs;

  @Option(names = "--target", defaultValue = "both",
      description = "activations, weights or both (default ${DEFAULT-VALUE})")
  String target;

  @Option(names = "--magnitudes", split = ",", defaultValue = "0,0.25,0.5,1,2",
      description = "perturbation magnitudes ε, in units of each quantizer's step "
          + "(default ${DEFAULT-VALUE})")
  double[] magnitudes;

  @Option(names = "--repeats", defaultValue = "3",
      description = "random draws per magnitude (default ${DEFAULT-VALUE})")
  int repeats;

  @Option(names = "--seed", defaultValue = "1005", description = "seed of the perturbations "
      + "(default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--eval-limit", defaultValue = "1000",
      description = "the first N test images (0 = all; default ${DEFAULT-VALUE})")
  int evalLimit;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "output folder for flatness.json and flatness.png")
  Path out;

  @Mixin Options options;

  @Override
  public void validate() {
    try {
      FlatnessProbe.Target.parseList(target);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--target: " + e.getMessage(), e);
    }
    Check.arg(magnitudes.length >= 1, "--magnitudes: give at least one value");
    for (double m : magnitudes) {
      Check.arg(Double.isFinite(m) && m >= 0 && m <= 1000,
          "--magnitudes: %s is not a number in [0, 1000]", m);
    }
    Check.arg(repeats >= 1 && repeats <= 1000, "--repeats must be in 1..1000, got %d", repeats);
    Check.arg(evalLimit >= 0, "--eval-limit must be >= 0 (0 = all test images), got %d",
        evalLimit);
    Validated.requireFolder("--out", out);
    for (Path r : runs) {
      Check.arg(!Files.isRegularFile(r), "--run %s is a file; name the quantize --out folder", r);
    }
  }

  @Override
  public Integer call() throws IOException {
    List<FlatnessProbe.Target> targets = FlatnessProbe.Target.parseList(target);
    ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    List<JsonNode> results = new ArrayList<>();
    QuantizedRunDir first = null;
    for (Path r : runs) {
      Path q = r.resolve("quantized.safetensors");
      Path res = r.resolve("result.json");
      Check.arg(Files.isRegularFile(q) && Files.isRegularFile(res),
          "--run %s: no quantized.safetensors and result.json (not a quantize --out folder)", r);
      QuantizedRunDir run = QuantizedRunDir.read(r, model, dataDir);
      run.requireImageClassifier("probe flatness");
      if (first == null) {
        first = run;
      } else {
        Check.arg(run.arch().equals(first.arch()) && run.dataset().equals(first.dataset())
                && run.modelFile().equals(first.modelFile()),
            "--run %s quantizes %s on %s from %s, but --run %s quantizes %s on %s from %s; "
                + "compare runs of one model", r, run.arch(), run.dataset(), run.modelFile(),
            first.dir(), first.arch(), first.dataset(), first.modelFile());
      }
      results.add(om.readTree(res.toFile()));
    }
    Check.arg(arch == null || arch.equals(first.arch()),
        "--arch %s, but the runs quantize %s (their manifest.json)", arch, first.arch());
    Check.arg(data == null || data.equals(first.dataset()),
        "--data %s, but the runs were quantized on %s (their manifest.json)", data,
        first.dataset());
    String archName = first.arch();
    String dataName = first.dataset();
    Model model = Architectures.load(archName, first.modelFile());
    Datasets.Split d = Datasets.load(dataName, first.dataDir());
    LabeledImages test = d.test();
    int n = evalLimit <= 0 ? test.n() : Math.min(evalLimit, test.n());
    Tensor images = Evaluator.batch(test, Datasets.normalization(dataName), 0, n);
    int[] labels = java.util.Arrays.copyOf(test.labels(), n);
    Kernels k = Kernels.of(options.numerics());
    ObjectNode root = om.createObjectNode();
    root.put("command", "probe flatness");
    root.put("arch", archName);
    root.put("dataset", dataName);
    root.put("eval_images", n);
    root.put("seed", seed);
    root.put("repeats", repeats);
    root.put("definition", "activations: x' = Q(x) + eps * s_site * xi; weights: W' = W_q + "
        + "eps * s_channel * xi; xi uniform in [-1, 1) per element, seeded; loss = mean "
        + "cross-entropy with the labels, averaged over the repeats (ALGORITHMS.md 4.6)");
    ArrayNode runsOut = root.putArray("runs");
    List<String> labelsOut = new ArrayList<>();
    List<List<FlatnessProbe.Point>> curves = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      Path r = runs.get(i);
      JsonNode res = results.get(i);
      QuantState state = QuantExport.read(r.resolve("quantized.safetensors"), model);
      String label = res.path("method").asText("?") + " (" + r.getFileName() + ")";
      ObjectNode ro = runsOut.addObject();
      ro.put("run", r.toString());
      ro.put("method", res.path("method").asText(""));
      ro.put("wbits", res.path("wbits").asInt());
      ro.put("abits", res.path("abits").asInt());
      ro.put("granularity", res.path("granularity").asText(""));
      ro.put("quantized_sha256", res.path("quantized_sha256").asText(""));
      ArrayNode pts = ro.putArray("points");
      List<FlatnessProbe.Point> all = new ArrayList<>();
      for (FlatnessProbe.Target t : targets) {
        List<FlatnessProbe.Point> ps = FlatnessProbe.measure(k, model, state, images, labels, t,
            magnitudes, repeats, seed);
        for (FlatnessProbe.Point p : ps) {
          ObjectNode po = pts.addObject();
          po.put("target", p.target().cliName());
          po.put("epsilon", p.magnitude());
          po.put("loss", p.loss());
          po.put("loss_std", p.lossStd());
          po.put("top1", p.top1());
          po.put("repeats", p.repeats());
          System.out.printf(Locale.ROOT, "%-28s %-11s eps %-6s loss %.4f (sd %.4f)  top-1 "
              + "%.2f %%%n", label, p.target().cliName(), p.magnitude(), p.loss(), p.lossStd(),
              p.top1());
        }
        all.addAll(ps);
      }
      labelsOut.add(label);
      curves.add(all);
    }
    Files.createDirectories(out);
    om.writeValue(out.resolve("flatness.json").toFile(), root);
    List<JFreeChart> charts = new ArrayList<>();
    for (FlatnessProbe.Target t : targets) {
      charts.add(chart(t, labelsOut, curves, n));
    }
    MixedPlots.write(out.resolve("flatness.png"), 640, 480, charts.toArray(new JFreeChart[0]));
    System.out.println("wrote " + out.resolve("flatness.json") + ", flatness.png");
    return 0;
  }

  /** Loss against ε for one target, one line per run. */
  private static JFreeChart chart(FlatnessProbe.Target t, List<String> labels,
      List<List<FlatnessProbe.Point>> curves, int images) {
    XYSeriesCollection ds = new XYSeriesCollection();
    for (int i = 0; i < labels.size(); i++) {
      XYSeries s = new XYSeries(labels.get(i));
      for (FlatnessProbe.Point p : curves.get(i)) {
        if (p.target() == t) {
          s.add(p.magnitude(), p.loss());
        }
      }
      ds.addSeries(s);
    }
    JFreeChart c = ChartFactory.createXYLineChart("perturbed " + t.cliName() + " (" + images
            + " test images)", "ε (quantization steps)", "cross-entropy loss", ds,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = c.getXYPlot();
    XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(true, true);
    for (int i = 0; i < labels.size(); i++) {
      rr.setSeriesStroke(i, new BasicStroke(2f));
    }
    plot.setRenderer(rr);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.GRAY);
    plot.setRangeGridlinePaint(Color.GRAY);
    return c;
  }
}
