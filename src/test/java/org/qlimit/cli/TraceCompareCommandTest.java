package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.export.OnnxExport;
import org.qlimit.export.Ort;
import org.qlimit.io.DType;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.Method;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/**
 * {@code qlimit trace} and {@code qlimit compare} on a W4A4 RTN run of the embedded ResNet-20:
 * a trace equals itself; a dump of ONNX Runtime's site outputs (U8, in another tensor order, no
 * metadata) lines up with it, equal within one step with optimisations off, and at ORT's default
 * level compare names the first fused layer's site as the first diverging tensor; the integer
 * path's trace carries the same names (those of the ONNX graph's site outputs), lines up with the
 * fake-quantized trace, and is the same bits at 1 and 2 threads; malformed inputs give one-line
 * errors (exit code 2 for a trace, 1 for a run folder without its files).
 */
class TraceCompareCommandTest extends QuietTest {
  private static final int N = 32;
  @TempDir static Path dir;
  private static Path run;
  private static QuantState state;
  private static Path fake;
  private static Path inputs;

  @BeforeAll
  static void makeRun() throws Exception {
    Model m = Embedded.resnet20();
    ReconConfig c = ReconConfig.builder(Method.RTN, 4, 4).iters(1).itersAct(1).batchSize(8)
        .seed(1005).brecqActImages(16).qdropActImages(16).build();
    state = new Reconstructor(m, c, Kernels.of(NumericsConfig.defaults()), ReconListener.NONE)
        .run(Embedded.calibration(16)).state();
    run = dir.resolve("run");
    Files.createDirectories(run);
    QuantExport.write(run.resolve("quantized.safetensors"), state,
        Map.of("quantized_sha256", QuantExport.sha256(state)));
    Files.writeString(run.resolve("manifest.json"), "{\"config\": {\"model\": \""
        + Embedded.RESNET20 + "\", \"arch\": \"resnet20-fmnist\", \"dataset\": "
        + "\"fashion-mnist\", \"data_dir\": \"null\"}}");
    fake = dir.resolve("fake.safetensors");
    inputs = dir.resolve("inputs.safetensors");
    CliRun r = CliRun.of("trace", run.toString(), "--images", Integer.toString(N), "--out",
        fake.toString(), "--inputs", inputs.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
  }

  @Test
  void traceHoldsEverySiteThenTheLogitsInNetworkOrder() throws Exception {
    SafeTensorsFile f = SafeTensors.read(fake);
    List<String> expected = new ArrayList<>(Architectures.load("resnet20-fmnist",
        Embedded.RESNET20).actSites());
    expected.add("logits");
    assertThat(f.names()).isEqualTo(expected);
    assertThat(f.metadata().get("order")).isEqualTo(String.join(",", expected));
    assertThat(f.get("layer1.0").dtype()).isEqualTo(DType.I32);
    assertThat(f.get("layer1.0").intShape()).containsExactly(N, 16, 28, 28);
    assertThat(f.get("logits").intShape()).containsExactly(N, 10);
    for (int v : f.get("layer2.1").asInts()) {
      assertThat(v).isBetween(0, 15);
    }
    CliRun same = CliRun.of("compare", fake.toString(), fake.toString());
    assertThat(same.code()).as(same.err()).isEqualTo(0);
    assertThat(same.out()).contains("equal within tolerance");
  }

  @Test
  void traceIsTheSameOnOneThreadAndWithoutSimd() throws Exception {
    Path scalar = dir.resolve("scalar.safetensors");
    CliRun r = CliRun.of("trace", run.toString(), "--images", Integer.toString(N), "--out",
        scalar.toString(), "--threads", "1", "--vector-bits", "0");
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    SafeTensorsFile a = SafeTensors.read(fake);
    SafeTensorsFile b = SafeTensors.read(scalar);
    for (String n : a.names()) {
      assertThat(b.get(n).sameContent(a.get(n))).as(n).isTrue();
    }
  }

  private static Path integerTrace(String name, String threads) {
    Path p = dir.resolve(name);
    CliRun r = CliRun.of("trace", run.toString(), "--path", "integer", "--images",
        Integer.toString(N), "--out", p.toString(), "--threads", threads);
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    return p;
  }

  @Test
  void theIntegerTraceNamesTheSitesAsTheOnnxGraphAndLinesUpWithTheFakeOne() throws Exception {
    Path integer = integerTrace("integer.safetensors", "2");
    SafeTensorsFile f = SafeTensors.read(fake);
    SafeTensorsFile t = SafeTensors.read(integer);
    assertThat(t.names()).isEqualTo(f.names());
    assertThat(t.metadata().get("path")).isEqualTo("integer");
    var mp = OnnxExport.build(state, new OnnxExport.Options(OnnxExport.WeightEncoding.CENTRED,
        OnnxExport.BiasEncoding.INT32, true));
    List<String> outputs = new ArrayList<>();
    mp.getGraph().getOutputList().forEach(v -> outputs.add(v.getName()));
    assertThat(outputs).containsExactlyInAnyOrderElementsOf(t.names());
    // the integer path quantizes the input image at 8 bits (docs/INTEGER.md §1), the
    // fake-quantized path reads it in float32: conv1 moves some levels by one step, and the
    // departures carry on from there
    CliRun r = CliRun.of("compare", fake.toString(), integer.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).contains("first diverging tensor: conv1 (");
    assertThat(r.out()).containsPattern("(?m)^conv1 +401408 +[1-9]\\d* +[1-9]\\d* +1 step$");
    for (String site : f.names()) {
      assertThat(r.out()).containsPattern("(?m)^" + java.util.regex.Pattern.quote(site) + " ");
    }
  }

  /**
   * ORT's default level on the {@code --bias int32} export against the integer path: both
   * accumulate in int32 from the same int32 biases, but ORT's conv1 reads the float image (the
   * integer path quantizes it at 8 bits) and ORT requantizes in its own arithmetic, so levels move
   * by one step from conv1 on; the first fused sites stay within one step.
   */
  @Test
  void ortsDefaultLevelWithInt32BiasesAgainstTheIntegerPath() throws Exception {
    Path integer = integerTrace("integer-vs-ort.safetensors", "2");
    Path ort = OrtSiteDump.dump(state, OnnxExport.BiasEncoding.INT32, Ort.Level.DEFAULT, inputs,
        fake, dir.resolve("ort-default-int32.safetensors"));
    CliRun r = CliRun.of("compare", integer.toString(), ort.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.out()).contains("first diverging tensor: conv1 (");
    r = CliRun.of("compare", integer.toString(), ort.toString(), "--tolerance", "1");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    for (String site : new String[] {"conv1", "layer1.0.conv1", "layer1.0"}) {
      assertThat(r.out()).containsPattern("(?m)^" + java.util.regex.Pattern.quote(site)
          + " +401408 +[1-9]\\d* +0 +1 step$");
    }
    assertThat(r.out()).contains("first diverging tensor: layer1.1.conv1 (");
  }

  /** export and trace read a run folder as eval --integer does: --model replaces a moved model. */
  @Test
  void aMovedModelFileIsNamedAndModelReplacesIt() throws Exception {
    Path moved = Files.createDirectories(dir.resolve("moved"));
    Files.copy(run.resolve("quantized.safetensors"), moved.resolve("quantized.safetensors"));
    Files.writeString(moved.resolve("manifest.json"), Files.readString(run.resolve(
        "manifest.json")).replace(Embedded.RESNET20.toString(), "gone/model.safetensors"));
    Path t = dir.resolve("moved.safetensors");
    CliRun r = CliRun.of("trace", moved.toString(), "--images", "2", "--out", t.toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n")
        .contains("model file gone/model.safetensors named by", "not found; pass --model FILE");
    r = CliRun.of("export", "--run", moved.toString(), "--out", dir.resolve("moved.onnx")
        .toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("not found; pass --model FILE");
    r = CliRun.of("trace", moved.toString(), "--images", "2", "--out", t.toString(), "--model",
        Embedded.RESNET20.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    SafeTensorsFile a = SafeTensors.read(t);
    SafeTensorsFile b = SafeTensors.read(fake);
    int[] first = a.get("conv1").asInts();
    assertThat(first).isEqualTo(java.util.Arrays.copyOf(b.get("conv1").asInts(), first.length));
    r = CliRun.of("export", "--run", moved.toString(), "--out", dir.resolve("moved.onnx")
        .toString(), "--model", Embedded.RESNET20.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    r = CliRun.of("trace", run.toString(), "--images", "2", "--out", t.toString(), "--data-dir",
        dir.resolve("no-data").toString());
    assertThat(r.code()).isNotZero();
    assertThat(r.err().strip()).doesNotContain("\n").contains("no-data");
  }

  @Test
  void theIntegerTraceIsTheSameAtOneAndTwoThreads() throws Exception {
    SafeTensorsFile a = SafeTensors.read(integerTrace("integer-t1.safetensors", "1"));
    SafeTensorsFile b = SafeTensors.read(integerTrace("integer-t2.safetensors", "2"));
    assertThat(b.names()).isEqualTo(a.names());
    for (String n : a.names()) {
      assertThat(b.get(n).sameContent(a.get(n))).as(n).isTrue();
    }
  }

  /** ORT's site outputs written as a back end would: U8, sorted by name, no metadata. */
  private static Path ortTrace(Ort.Level level, String name) throws Exception {
    return OrtSiteDump.dump(state, OnnxExport.BiasEncoding.FLOAT, level, inputs, fake,
        dir.resolve(name));
  }

  @Test
  void anOnnxRuntimeDumpLinesUpWithTheTrace() throws Exception {
    Path off = ortTrace(Ort.Level.OFF, "ort-off.safetensors");
    CliRun r = CliRun.of("compare", fake.toString(), off.toString(), "--tolerance", "1",
        "--logit-tolerance", "0.5");
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(0);
    assertThat(r.out().lines().filter(l -> l.startsWith("layer")).count()).isEqualTo(18);
    assertThat(r.out()).contains("equal within tolerance");
  }

  @Test
  void compareNamesTheFirstFusedSiteWhereOrtsDefaultLevelDeparts() throws Exception {
    Path def = ortTrace(Ort.Level.DEFAULT, "ort-default.safetensors");
    CliRun r = CliRun.of("compare", fake.toString(), def.toString());
    assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
    // conv1 reads the float input and is not fused; layer1.0.conv1 is the first QLinearConv,
    // whose int32 bias (rounded by ORT) moves some levels by one step
    assertThat(r.out()).contains("first diverging tensor: layer1.0.conv1 (");
    assertThat(r.out()).containsPattern("(?m)^conv1 +\\d+ +0 +0 +0 steps$");
  }

  @Test
  void malformedInputsAreOneLineErrors() throws Exception {
    SafeTensorsFile f = SafeTensors.read(fake);
    List<TensorEntry> less = new ArrayList<>(f.entries());
    less.remove(3);
    Path missing = dir.resolve("missing.safetensors");
    SafeTensors.write(missing, less, Map.of());
    CliRun r = CliRun.of("compare", fake.toString(), missing.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n")
        .contains("tensor " + f.names().get(3) + " is missing");
    // --only-common compares the rest (equal: the same trace) and names the one left out
    r = CliRun.of("compare", fake.toString(), missing.toString(), "--only-common");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("not compared: 1 tensor only in " + fake + ": "
        + f.names().get(3)).contains("equal within tolerance");

    List<TensorEntry> shaped = new ArrayList<>(f.entries());
    TensorEntry l = shaped.get(shaped.size() - 1);
    shaped.set(shaped.size() - 1, TensorEntry.f32("logits", new long[] {N * 10},
        l.asFloats()));
    Path reshaped = dir.resolve("reshaped.safetensors");
    SafeTensors.write(reshaped, shaped, Map.of());
    r = CliRun.of("compare", fake.toString(), reshaped.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("tensor logits has shape");

    r = CliRun.of("compare", fake.toString(), dir.resolve("nothing.safetensors").toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().strip()).doesNotContain("\n").contains("not found");

    Path empty = dir.resolve("empty-run");
    Files.createDirectories(empty);
    Files.copy(run.resolve("manifest.json"), empty.resolve("manifest.json"));
    r = CliRun.of("trace", empty.toString(), "--out", dir.resolve("t.safetensors").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("has no quantized.safetensors");
    r = CliRun.of("export", "--run", empty.toString(), "--out",
        dir.resolve("m.onnx").toString());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("has no quantized.safetensors");
  }

  @Test
  void exportWritesAModelOrtRuns() throws Exception {
    Path onnx = dir.resolve("model.onnx");
    CliRun r = CliRun.of("export", "--run", run.toString(), "--format", "onnx", "--out",
        onnx.toString());
    assertThat(r.code()).as(r.err()).isEqualTo(0);
    var mp = org.qlimit.onnx.Onnx.ModelProto.parseFrom(Files.readAllBytes(onnx));
    assertThat(mp.getGraph().getOutputList()).hasSize(1);
    TensorEntry in = SafeTensors.read(inputs).get("input");
    try (Ort ort = new Ort(mp, Ort.Level.OFF, null)) {
      float[] o = ort.logits(Tensor.of(in.asFloats(), in.intShape()));
      float[] q = SafeTensors.read(fake).get("logits").asFloats();
      for (int i = 0; i < q.length; i++) {
        assertThat((double) o[i]).isCloseTo(q[i], org.assertj.core.data.Offset.offset(0.5));
      }
    }
  }
}
