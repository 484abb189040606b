package org.qlimit.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.QuantExport;
import org.qlimit.util.Hashing;

/**
 * Converts a {@code quantized_sha256} of the earlier definition (v1: the integer digest D_int
 * alone) into the current one ({@link QuantExport#sha256}, "qlimit-quantized-v2"), exactly, from
 * the model file: the v1 hash is D_int, and the outer level needs only what a run leaves as it
 * was in the model file or fixes by rule.
 *
 * <ul>
 *   <li>Biases: the folded FP biases of the model, which no method changes (quantization
 *       requires frozen parameters, {@code Reconstructor}'s constructor checks it, and only
 *       AdaRound variables and activation steps are optimised).</li>
 *   <li>Schemes: asymmetric for every layer and site: every quantizer the methods build is
 *       {@code QScheme.asymmetric} (Reconstructor, Sensitivity); symmetric grids arise only from
 *       reading a file that says so.</li>
 *   <li>Activation sites: every site of the model ({@code Model.actSites()}, in order) when
 *       activations are quantized (abits &lt; 32), none at A32.</li>
 * </ul>
 *
 * <p>Usage (from the repository root, after {@code mvn -q -o -DskipTests test-compile package}):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/qlimit.jar:target/test-classes \
 *   org.qlimit.tools.ConvertQuantizedHashes ARCH=MODEL... -- hash ARCH ABITS V1HEX
 * java ... ConvertQuantizedHashes ARCH=MODEL... -- json FILE...
 * java ... ConvertQuantizedHashes ARCH=MODEL... -- file ARCH QUANTIZED.safetensors
 * </pre>
 * {@code hash} prints the v2 hash; {@code json} rewrites the {@code quantized_sha256} of each
 * result file in place (text replacement, formatting kept) and prints "v1 v2 file" per file;
 * {@code file} prints "v1 v2" of an exported quantized model (to match a rerun against a
 * published v1 hash).
 * Apply it once to files that hold v1 hashes: a v2 hash given as input is converted again.
 */
public final class ConvertQuantizedHashes {
  private ConvertQuantizedHashes() {}

  /** The v2 hash of a run whose v1 hash is {@code v1Hex}, on {@code model} at {@code abits}. */
  public static String convert(Model model, int abits, String v1Hex) {
    byte[] integerDigest = HexFormat.of().parseHex(v1Hex);
    List<QuantExport.LayerPart> layers = new ArrayList<>();
    for (Layer l : model.layers()) {
      float[] bias = l.bias() == null ? null : l.bias().value().contiguous().data();
      layers.add(new QuantExport.LayerPart(l.name(), false, bias));
    }
    List<QuantExport.SitePart> sites = new ArrayList<>();
    if (abits < 32) {
      for (String s : model.actSites()) {
        sites.add(new QuantExport.SitePart(s, false));
      }
    }
    return Hashing.hex(QuantExport.exportDigest(integerDigest, model.arch(), layers, sites));
  }

  public static void main(String[] args) throws IOException {
    Map<String, Model> models = new LinkedHashMap<>();
    int i = 0;
    for (; i < args.length && !args[i].equals("--"); i++) {
      String[] kv = args[i].split("=", 2);
      models.put(kv[0], Architectures.load(kv[0], Path.of(kv[1])));
    }
    if (i + 1 >= args.length) {
      throw new IllegalArgumentException(
          "usage: ARCH=MODEL... -- hash ARCH ABITS V1 | json FILE... | file ARCH QUANTIZED");
    }
    String mode = args[i + 1];
    if (mode.equals("hash")) {
      System.out.println(convert(model(models, args[i + 2]), Integer.parseInt(args[i + 3]),
          args[i + 4]));
      return;
    }
    if (mode.equals("file")) {
      QuantState s = QuantExport.read(Path.of(args[i + 3]), model(models, args[i + 2]));
      System.out.println(Hashing.hex(QuantExport.integerDigest(s)) + " "
          + QuantExport.sha256(s));
      return;
    }
    ObjectMapper json = new ObjectMapper();
    for (int j = i + 2; j < args.length; j++) {
      Path file = Path.of(args[j]);
      String text = Files.readString(file, StandardCharsets.UTF_8);
      JsonNode r = json.readTree(text);
      String v1 = r.get("quantized_sha256").asText();
      String v2 = convert(model(models, r.get("arch").asText()), r.get("abits").asInt(), v1);
      Files.writeString(file, text.replace(v1, v2), StandardCharsets.UTF_8);
      System.out.println(v1 + " " + v2 + " " + file);
    }
  }

  private static Model model(Map<String, Model> models, String arch) {
    Model m = models.get(arch);
    if (m == null) {
      throw new IllegalArgumentException("no model file given for architecture " + arch);
    }
    return m;
  }
}
