package org.qlimit.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.integer.IntegerNetwork;
import org.qlimit.integer.IntegerTrace;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.IntKernels;
import org.qlimit.kernel.Kernels;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;
import org.qlimit.trace.FakeQuantTrace;
import org.qlimit.trace.TraceSource;
import org.qlimit.trace.Traces;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code qlimit trace}: every activation site's integer tensor and the logits of a quantized run
 * for the first N test images, as a trace file ({@link Traces}).
 */
@Command(name = "trace", mixinStandardHelpOptions = true,
    description = {"Write every quantized activation site's integer tensor (I32 levels, named "
        + "after the site as in the ONNX export) and the logits (F32) for the first N test "
        + "images, in network order, to a safetensors trace; compare traces with 'qlimit "
        + "compare'."})
final class TraceCommand implements Callable<Integer>, Validated {
  @Parameters(index = "0", paramLabel = "RUN_DIR", description = "folder written by 'qlimit "
      + "quantize'")
  Path run;

  @Option(names = "--images", defaultValue = "8", paramLabel = "N",
      description = "first N test images (default 8)")
  int images;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "trace to write")
  Path out;

  @Option(names = "--path", defaultValue = "fake", paramLabel = "PATH",
      description = "fake (the fake-quantized forward pass, default) or integer (the integer "
          + "reference path of docs/INTEGER.md)")
  String path;

  @Option(names = "--model", paramLabel = "FILE", description = "the FP checkpoint, instead of "
      + "the one named by RUN_DIR/manifest.json")
  Path model;

  @Option(names = "--data-dir", paramLabel = "DIR", description = "dataset folder, instead of "
      + "the one the run used")
  Path dataDir;

  @Option(names = "--inputs", paramLabel = "FILE",
      description = "also write the N normalised input images (F32 'input', (N, C, H, W)) and "
          + "their labels (I32 'labels') to FILE, to run on another back end")
  Path inputs;

  @Mixin Options options;

  @Override
  public void validate() {
    if (images < 1) {
      throw new IllegalArgumentException("--images must be >= 1, got " + images);
    }
    if (!path.equals("fake") && !path.equals("integer")) {
      throw new IllegalArgumentException("--path must be fake or integer, got '" + path + "'");
    }
    Validated.requireFile("--out", out);
    Validated.requireWritableTarget("--out", out);
    Validated.requireFile("--inputs", inputs);
    Validated.requireWritableTarget("--inputs", inputs);
  }

  @Override
  public Integer call() throws Exception {
    QuantizedRunDir r = QuantizedRunDir.read(run, model, dataDir);
    r.requireImageClassifier(path.equals("integer") ? "the integer reference path"
        : "qlimit trace");
    QuantizedRunDir.Loaded q = r.loadWithHash();
    QuantState state = q.state();
    Datasets.Split d = Datasets.load(r.dataset(), r.dataDir());
    LabeledImages test = d.test();
    if (images > test.n()) {
      throw new UsageError("--images " + images + " exceeds the " + test.n() + " test images of "
          + test.name());
    }
    Normalization norm = Datasets.normalization(r.dataset());
    Tensor x = Evaluator.batch(test, norm, 0, images);
    TraceSource src = path.equals("integer")
        ? new IntegerTrace(IntegerNetwork.compile(state, IntegerNetwork.inputParams(norm)),
            IntKernels.of(options.numerics()), 100)
        : new FakeQuantTrace(state, Kernels.of(options.numerics()), 100);
    LinkedHashMap<String, TensorEntry> t = src.trace(x);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("arch", r.arch());
    meta.put("dataset", test.name());
    meta.put("quantized_sha256", q.sha256());
    Traces.write(out, src.path(), images, t, meta);
    if (inputs != null) {
      int[] labels = java.util.Arrays.copyOf(test.labels(), images);
      int[] s = x.shape();
      List<TensorEntry> in = new ArrayList<>();
      in.add(TensorEntry.f32("input", new long[] {s[0], s[1], s[2], s[3]},
          x.contiguous().data()));
      in.add(TensorEntry.i32("labels", new long[] {images}, labels));
      SafeTensors.write(inputs, in, Map.of("dataset", test.name(), "normalised", "true"));
    }
    System.out.printf(Locale.ROOT, "wrote %s: %d tensors (%d sites and logits) for %d images of "
        + "%s, path %s%s%n", out, t.size(), t.size() - 1, images, test.name(), src.path(),
        inputs == null ? "" : "; inputs in " + inputs);
    return 0;
  }
}
