package org.qlimit.mixed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.qlimit.recon.Method;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Hashing;

/**
 * A JSON file cache of {@link Sensitivity} values. The key is the SHA-256 of everything that
 * changes them: the model file's SHA-256, the architecture, the weight observer (method), the
 * candidate widths, the calibration images and labels (their bits), and {@link #FORMAT}, which
 * names the measurement definition (bump it when {@link Sensitivity} changes). Doubles are
 * written by Jackson in their shortest round-trip form, so a loaded value is bit-identical.
 */
public final class SensitivityCache {
  private SensitivityCache() {}

  /** The measurement definition; part of the key. */
  public static final String FORMAT = "qlimit-sensitivity-3 (Fisher-weighted block error of CE "
      + "gradients; weighting, activation width and rounding keyed by Options.describe; "
      + "activation widths by the §5 rules including BRECQ's penultimate-layer rule)";

  private static final ObjectMapper OM = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** The cache key. */
  public static String key(String modelSha256, String arch, Method method, int[] bits,
      Sensitivity.Options options, Tensor calib, int[] labels) {
    MessageDigest md = Hashing.sha256();
    Hashing.update(md, FORMAT);
    Hashing.update(md, modelSha256);
    Hashing.update(md, arch);
    Hashing.update(md, method.cliName());
    Hashing.update(md, bits);
    Hashing.update(md, options.describe());
    Hashing.update(md, calib.shape());
    Hashing.update(md, calib.contiguous().data());
    Hashing.update(md, labels);
    return Hashing.hex(md.digest());
  }

  /** The cache file for a key inside a folder. */
  public static Path file(Path dir, String key) {
    return dir.resolve("sensitivity-" + key.substring(0, 16) + ".json");
  }

  /** The cached value, if the file exists and carries this key. */
  public static Optional<Sensitivity> load(Path file, String key) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    JsonNode r = OM.readTree(file.toFile());
    if (!key.equals(r.path("key").asText())) {
      return Optional.empty();
    }
    return Optional.of(read(r));
  }

  /** Writes (creating folders) the value under its key. */
  public static void save(Path file, String key, Sensitivity s) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    ObjectNode r = OM.createObjectNode();
    r.put("key", key);
    r.put("format", FORMAT);
    write(r, s);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    OM.writeValue(tmp.toFile(), r);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Adds the values to a JSON object (also used for result.json). */
  public static void write(ObjectNode r, Sensitivity s) {
    ArrayNode bits = r.putArray("bits");
    for (int b : s.bits()) {
      bits.add(b);
    }
    ArrayNode layers = r.putArray("layers");
    for (int i = 0; i < s.layers().size(); i++) {
      ObjectNode l = layers.addObject();
      l.put("layer", s.layers().get(i));
      l.put("unit", s.units().get(i));
      ArrayNode d = l.putArray("diag");
      for (double v : s.diag()[i]) {
        d.add(v);
      }
    }
    ArrayNode pairs = r.putArray("pairs");
    for (Sensitivity.PairTerm p : s.pairs()) {
      ObjectNode o = pairs.addObject();
      o.put("i", p.i());
      o.put("j", p.j());
      ArrayNode off = o.putArray("off");
      for (double[] row : p.off()) {
        ArrayNode a = off.addArray();
        for (double v : row) {
          a.add(v);
        }
      }
    }
  }

  static Sensitivity read(JsonNode r) {
    JsonNode b = r.get("bits");
    int[] bits = new int[b.size()];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = b.get(i).asInt();
    }
    List<String> names = new ArrayList<>();
    List<String> units = new ArrayList<>();
    JsonNode layers = r.get("layers");
    double[][] diag = new double[layers.size()][];
    for (int i = 0; i < layers.size(); i++) {
      JsonNode l = layers.get(i);
      names.add(l.get("layer").asText());
      units.add(l.get("unit").asText());
      diag[i] = doubles(l.get("diag"));
    }
    List<Sensitivity.PairTerm> pairs = new ArrayList<>();
    for (JsonNode p : r.get("pairs")) {
      JsonNode off = p.get("off");
      double[][] o = new double[off.size()][];
      for (int a = 0; a < o.length; a++) {
        o[a] = doubles(off.get(a));
      }
      pairs.add(new Sensitivity.PairTerm(p.get("i").asInt(), p.get("j").asInt(), o));
    }
    return new Sensitivity(bits, names, units, diag, pairs);
  }

  private static double[] doubles(JsonNode a) {
    double[] d = new double[a.size()];
    for (int i = 0; i < d.length; i++) {
      d[i] = a.get(i).asDouble();
    }
    return d;
  }
}
