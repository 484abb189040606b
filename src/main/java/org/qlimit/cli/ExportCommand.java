package org.qlimit.cli;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.qlimit.export.OnnxExport;
import org.qlimit.quant.QuantState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code qlimit export}: a quantized run as an ONNX model in QDQ form. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Export a quantized run (a folder written by 'qlimit quantize') as an ONNX "
        + "model in QDQ form (opset 13): QuantizeLinear/DequantizeLinear pairs carry the integer "
        + "weights, scales, zero points and activation steps. See docs/onnx-export.md."})
final class ExportCommand implements Callable<Integer>, Validated {
  @Option(names = "--run", required = true, paramLabel = "RUN_DIR",
      description = "folder written by 'qlimit quantize'")
  Path run;

  @Option(names = "--model", paramLabel = "FILE", description = "the FP checkpoint, instead of "
      + "the one named by RUN_DIR/manifest.json")
  Path model;

  @Option(names = "--format", defaultValue = "onnx", paramLabel = "FORMAT",
      description = "output format: onnx (default)")
  String format;

  @Option(names = "--out", required = true, paramLabel = "FILE", description = "file to write")
  Path out;

  @Option(names = "--weights", defaultValue = "centred", paramLabel = "ENCODING",
      description = "centred (default: levels q − z with zero point 0, which ONNX Runtime's "
          + "integer kernels accept) or levels (qlimit's levels q with per-channel zero points)")
  String weights;

  @Option(names = "--bias", defaultValue = "float", paramLabel = "ENCODING",
      description = "float (default: qlimit's FP bias) or int32 (rounded to the accumulator grid "
          + "s_x·s_w, the deployment form; changes the model by at most half an accumulator step)")
  String bias;

  @Option(names = "--site-outputs", description = "also make every activation site's integer "
      + "tensor a graph output (to dump them from a runtime)")
  boolean siteOutputs;

  @Override
  public void validate() {
    if (!format.equals("onnx")) {
      throw new IllegalArgumentException("--format must be onnx, got '" + format + "'");
    }
    if (!weights.equals("centred") && !weights.equals("levels")) {
      throw new IllegalArgumentException("--weights must be centred or levels, got '" + weights
          + "'");
    }
    if (!bias.equals("float") && !bias.equals("int32")) {
      throw new IllegalArgumentException("--bias must be float or int32, got '" + bias + "'");
    }
    Validated.requireFile("--out", out);
    Validated.requireWritableTarget("--out", out);
  }

  @Override
  public Integer call() throws Exception {
    QuantizedRunDir r = QuantizedRunDir.read(run, model, null);
    QuantState state = r.load();
    OnnxExport.WeightEncoding enc = weights.equals("levels") ? OnnxExport.WeightEncoding.LEVELS
        : OnnxExport.WeightEncoding.CENTRED;
    OnnxExport.BiasEncoding be = bias.equals("int32") ? OnnxExport.BiasEncoding.INT32
        : OnnxExport.BiasEncoding.FLOAT;
    OnnxExport.write(out, state, new OnnxExport.Options(enc, be, siteOutputs));
    System.out.printf(Locale.ROOT, "wrote %s (%s, ONNX opset %d, %d activation sites, "
            + "%s weights, %s biases%s)%n", out, r.arch(), OnnxExport.opset(state.model()),
        state.actsInOrder().size(), weights, bias, siteOutputs ? ", site outputs" : "");
    return 0;
  }
}
