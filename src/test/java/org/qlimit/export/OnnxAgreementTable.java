package org.qlimit.export;

import java.util.Locale;
import org.qlimit.nn.Model;
import org.qlimit.onnx.Onnx.ModelProto;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.Method;

/**
 * The README table "qlimit and ONNX Runtime": for the quantizations of
 * {@link OnnxRuntimeAgreementTest} (RTN from 16 images; QDrop W2A2, 4 iterations per unit), on
 * the full Fashion-MNIST test set: qlimit's top-1, ORT's top-1 and argmax agreement with
 * optimisations off and at ORT's default level, for the FP-bias graph and for the graph with
 * int32 biases (against qlimit's forward pass of that model). Prints markdown rows.
 *
 * <p>Usage (repository root, after {@code mvn -q -o -DskipTests test-compile package}):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/qlimit.jar:target/test-classes:\
 *   $HOME/.m2/repository/com/microsoft/onnxruntime/onnxruntime/1.23.2/onnxruntime-1.23.2.jar \
 *   org.qlimit.export.OnnxAgreementTable [images [rows]]
 * </pre>
 * where rows (e.g. {@code 4,5,6}) picks rows of the table by index, to run them in parallel.
 */
public final class OnnxAgreementTable {
  private OnnxAgreementTable() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 10000;
    String[][] runs = {
        {"resnet20-fmnist", "RTN", "4", "4", "1"},
        {"resnet20-fmnist", "RTN", "2", "4", "1"},
        {"resnet20-fmnist", "RTN", "2", "2", "1"},
        {"resnet20-fmnist", "QDROP", "2", "2", "4"},
        {"mobilenetv2-small-fmnist", "RTN", "4", "4", "1"},
        {"mobilenetv2-small-fmnist", "RTN", "2", "4", "1"},
        {"mobilenetv2-small-fmnist", "RTN", "2", "2", "1"}};
    java.util.Set<Integer> rows = new java.util.TreeSet<>();
    if (args.length > 1) {
      for (String r : args[1].split(",")) {
        rows.add(Integer.parseInt(r.strip()));
      }
    }
    OnnxRuntimeAgreementTest.load();
    System.out.println("| model | run | qlimit top-1 | ORT off: top-1, agree, max abs Δ logit "
        + "| ORT default: top-1, agree | int32 bias: qlimit top-1 | ORT default: top-1, agree, "
        + "max abs Δ logit | ORT off: agree |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (int row = 0; row < runs.length; row++) {
      if (!rows.isEmpty() && !rows.contains(row)) {
        continue;
      }
      String[] r = runs[row];
      long t0 = System.nanoTime();
      Method method = Method.valueOf(r[1]);
      int w = Integer.parseInt(r[2]);
      int a = Integer.parseInt(r[3]);
      Model m = OnnxRuntimeAgreementTest.model(r[0]);
      QuantState s = OnnxRuntimeAgreementTest.quantize(m, method, w, a,
          Integer.parseInt(r[4]));
      ModelProto fp = OnnxExport.build(s, OnnxExport.Options.DEFAULT);
      ModelProto deployed = OnnxExport.build(s, new OnnxExport.Options(
          OnnxExport.WeightEncoding.CENTRED, OnnxExport.BiasEncoding.INT32, false));
      float[] q = OnnxRuntimeAgreementTest.qlimitLogits(s, n);
      OnnxRuntimeAgreementTest.Agreement off;
      OnnxRuntimeAgreementTest.Agreement def;
      try (Ort o = new Ort(fp, Ort.Level.OFF, null)) {
        off = OnnxRuntimeAgreementTest.agreement(q, o, n);
      }
      try (Ort o = new Ort(fp, Ort.Level.DEFAULT, null)) {
        def = OnnxRuntimeAgreementTest.agreement(q, o, n);
      }
      OnnxRuntimeAgreementTest.setBiasesFromGraph(s.model(), deployed);
      float[] qd = OnnxRuntimeAgreementTest.qlimitLogits(s, n);
      OnnxRuntimeAgreementTest.Agreement dDef;
      OnnxRuntimeAgreementTest.Agreement dOff;
      try (Ort o = new Ort(deployed, Ort.Level.DEFAULT, null)) {
        dDef = OnnxRuntimeAgreementTest.agreement(qd, o, n);
      }
      try (Ort o = new Ort(deployed, Ort.Level.OFF, null)) {
        dOff = OnnxRuntimeAgreementTest.agreement(qd, o, n);
      }
      String run = (method == Method.RTN ? "RTN" : "QDrop " + r[4] + " it") + " W" + w + "A" + a;
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %s, %s, %.2g | %s, %s | %s | %s, %s, %.2g "
              + "| %s |%n", r[0], run, pct(off.qlimitCorrect(), n), pct(off.ortCorrect(), n),
          pct(off.sameArgmax(), n), off.maxAbsLogitDelta(), pct(def.ortCorrect(), n),
          pct(def.sameArgmax(), n), pct(dDef.qlimitCorrect(), n), pct(dDef.ortCorrect(), n),
          pct(dDef.sameArgmax(), n), dDef.maxAbsLogitDelta(), pct(dOff.sameArgmax(), n));
      System.err.printf(Locale.ROOT, "%s %s: %.0f s%n", r[0], run, (System.nanoTime() - t0) / 1e9);
    }
  }

  private static String pct(int k, int n) {
    return String.format(Locale.ROOT, "%.2f %%", 100.0 * k / n);
  }
}
