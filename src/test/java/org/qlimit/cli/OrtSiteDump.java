package org.qlimit.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.qlimit.export.OnnxExport;
import org.qlimit.export.Ort;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.kernel.Kernels;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.Method;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.ReconListener;
import org.qlimit.recon.Reconstructor;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.Embedded;
import org.qlimit.util.NumericsConfig;

/**
 * ONNX Runtime's site outputs dumped as a back end would (U8 levels, sorted by name, no
 * metadata), and, as a tool, the README measurement of how far ORT's default level with the
 * {@code --bias int32} export is from the integer path's trace: it quantizes the embedded
 * ResNet-20 with RTN W4A4 from 16 calibration images (seed 1005, as
 * {@link TraceCompareCommandTest}), traces the first N test images on the fake-quantized and the
 * integer path, dumps ORT's site outputs at its default level for the int32-bias export, and
 * prints {@code qlimit compare} of each pair.
 *
 * <p>Usage (repository root, after {@code mvn -q -o -DskipTests test-compile package}):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/qlimit.jar:target/test-classes:\
 *   $HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.23.2/onnxruntime-1.23.2.jar \
 *   org.qlimit.cli.OrtSiteDump [images [work folder]]
 * </pre>
 */
public final class OrtSiteDump {
  private OrtSiteDump() {}

  /**
   * Runs the export of {@code state} with every site as a graph output in ORT and writes the
   * outputs to {@code out}: sites as U8 levels, logits as F32, shapes from {@code reference}.
   *
   * @param inputs a file written by {@code qlimit trace --inputs}
   * @param reference a trace of the same images (for the tensor shapes)
   */
  static Path dump(QuantState state, OnnxExport.BiasEncoding bias, Ort.Level level, Path inputs,
      Path reference, Path out) throws Exception {
    var mp = OnnxExport.build(state, new OnnxExport.Options(OnnxExport.WeightEncoding.CENTRED,
        bias, true));
    TensorEntry in = SafeTensors.read(inputs).get("input");
    Tensor x = Tensor.of(in.asFloats(), in.intShape());
    List<String> names = new ArrayList<>();
    mp.getGraph().getOutputList().forEach(v -> names.add(v.getName()));
    Map<String, Object> got;
    try (Ort ort = new Ort(mp, level, null)) {
      got = ort.run(x, names);
    }
    SafeTensorsFile ref = SafeTensors.read(reference);
    Map<String, TensorEntry> sorted = new TreeMap<>();
    for (String n : names) {
      long[] shape = ref.get(n).shape();
      if (got.get(n) instanceof float[] f) {
        sorted.put(n, TensorEntry.f32(n, shape, f));
      } else {
        int[] v = (int[]) got.get(n);
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
          b[i] = (byte) v[i];
        }
        sorted.put(n, TensorEntry.u8(n, shape, b));
      }
    }
    SafeTensors.write(out, new ArrayList<>(sorted.values()), Map.of());
    return out;
  }

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    Path dir = Files.createDirectories(Path.of(args.length > 1 ? args[1]
        : "target/ort-site-dump"));
    ReconConfig c = ReconConfig.builder(Method.RTN, 4, 4).iters(1).itersAct(1).batchSize(8)
        .seed(1005).brecqActImages(16).qdropActImages(16).build();
    QuantState state = new Reconstructor(Embedded.resnet20(), c,
        Kernels.of(NumericsConfig.defaults()), ReconListener.NONE)
        .run(Embedded.calibration(16)).state();
    Path run = Files.createDirectories(dir.resolve("run"));
    QuantExport.write(run.resolve("quantized.safetensors"), state,
        Map.of("quantized_sha256", QuantExport.sha256(state)));
    Files.writeString(run.resolve("manifest.json"), "{\"config\": {\"model\": \""
        + Embedded.RESNET20 + "\", \"arch\": \"resnet20-fmnist\", \"dataset\": "
        + "\"fashion-mnist\", \"data_dir\": \"null\"}}");
    Path fake = dir.resolve("fake.safetensors");
    Path integer = dir.resolve("integer.safetensors");
    Path inputs = dir.resolve("inputs.safetensors");
    String images = Integer.toString(n);
    check(Main.execute("trace", run.toString(), "--images", images, "--out", fake.toString(),
        "--inputs", inputs.toString()));
    check(Main.execute("trace", run.toString(), "--path", "integer", "--images", images, "--out",
        integer.toString()));
    Path ort = dump(state, OnnxExport.BiasEncoding.INT32, Ort.Level.DEFAULT, inputs, fake,
        dir.resolve("ort-default-int32.safetensors"));
    System.out.println("== qlimit compare integer.safetensors ort-default-int32.safetensors ("
        + n + " images)");
    System.out.println("exit code " + Main.execute("compare", integer.toString(), ort.toString()));
    System.out.println("== the same, --tolerance 1");
    System.out.println("exit code " + Main.execute("compare", integer.toString(), ort.toString(),
        "--tolerance", "1"));
    System.out.println("== qlimit compare fake.safetensors integer.safetensors");
    System.out.println("exit code " + Main.execute("compare", fake.toString(),
        integer.toString()));
  }

  private static void check(int code) {
    if (code != 0) {
      throw new IllegalStateException("qlimit trace exited with " + code);
    }
  }
}
