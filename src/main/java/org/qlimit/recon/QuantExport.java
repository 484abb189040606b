package org.qlimit.recon;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
import org.qlimit.quant.QScheme;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.util.Check;
import org.qlimit.util.Hashing;

/**
 * The quantized model as data: its hash and its safetensors file.
 *
 * <p>File layout (names follow the FP model's layers and activation sites):
 * <pre>
 * LAYER.weight_int        I32 (Cout, ...)  integer levels q
 * LAYER.weight_scale      F32 (Cout)       s per output channel
 * LAYER.weight_zero_point I32 (Cout)       z per output channel
 * LAYER.bias              F32 (Cout)       FP bias (folded BatchNorm), when present
 * SITE.act_scale          F32 (1)          activation step
 * SITE.act_zero_point     I32 (1)          activation zero point
 * </pre>
 * A weight is reconstructed as (q − z)·s. Bit widths are in the metadata
 * ({@code LAYER.weight_bits}, {@code SITE.act_bits}) and schemes ({@code LAYER.weight_scheme},
 * {@code SITE.act_scheme}: asymmetric or symmetric), with the architecture name. {@link #read}
 * turns such a file back into the {@link QuantState} that wrote it, bit for bit.
 */
public final class QuantExport {
  private QuantExport() {}

  /** Domain tag that starts the hash input of {@link #sha256}; changes with its definition. */
  public static final String HASH_VERSION = "qlimit-quantized-v2";

  /**
   * {@code quantized_sha256}: a SHA-256 over every tensor {@link #write} exports and the metadata
   * that gives them meaning, as hex. Two levels:
   * <pre>
   * D_int = {@link #integerDigest}(state)                       (32 bytes)
   * hash  = SHA-256( "qlimit-quantized-v2" 0x00 ‖ arch 0x00 ‖ D_int
   *                  ‖ per layer in network order: name 0x00 ‖ scheme 0x00 ‖ bias
   *                  ‖ per activation site in site order: name 0x00 ‖ scheme 0x00 )
   * </pre>
   * where scheme is {@code asymmetric} or {@code symmetric}, and bias is the byte 0 (no bias) or
   * the byte 1, the element count (int32 LE) and the FP32 values (raw bits, LE). Bit widths are
   * in D_int. The two levels let a hash of the earlier definition (D_int alone, published before
   * "qlimit-quantized-v2") be converted exactly given the model file: see
   * {@code tools.ConvertQuantizedHashes} under src/test.
   *
   * @throws IllegalStateException when a layer still has soft rounding
   */
  public static String sha256(QuantState state) {
    List<LayerPart> layers = new ArrayList<>();
    for (Map.Entry<Layer, WeightQuantizer> e : state.weightsInOrder()) {
      Layer l = e.getKey();
      float[] bias = l.bias() == null ? null : l.bias().value().contiguous().data();
      layers.add(new LayerPart(l.name(), e.getValue().params().scheme().symmetric(), bias));
    }
    List<SitePart> sites = new ArrayList<>();
    for (ActQuantizer a : state.actsInOrder()) {
      sites.add(new SitePart(a.site(), a.params().scheme().symmetric()));
    }
    return Hashing.hex(exportDigest(integerDigest(state), state.model().arch(), layers, sites));
  }

  /**
   * One exported layer as the outer level of {@link #sha256} sees it.
   *
   * @param bias the FP32 bias (Cout), or null when the layer has none; not modified
   */
  public record LayerPart(String name, boolean symmetric, float[] bias) {}

  /** One exported activation site as the outer level of {@link #sha256} sees it. */
  public record SitePart(String name, boolean symmetric) {}

  /**
   * The outer level of {@link #sha256} over an integer digest (32 bytes) and the parts it does
   * not cover, in the given order.
   */
  public static byte[] exportDigest(byte[] integerDigest, String arch, List<LayerPart> layers,
      List<SitePart> sites) {
    Check.arg(integerDigest.length == 32, "integer digest must have 32 bytes, has %d",
        integerDigest.length);
    MessageDigest md = Hashing.sha256();
    Hashing.update(md, HASH_VERSION);
    Hashing.update(md, arch);
    md.update(integerDigest);
    for (LayerPart l : layers) {
      Hashing.update(md, l.name());
      Hashing.update(md, l.symmetric() ? "symmetric" : "asymmetric");
      if (l.bias() == null) {
        md.update((byte) 0);
      } else {
        md.update((byte) 1);
        Hashing.update(md, new int[] {l.bias().length});
        Hashing.update(md, l.bias());
      }
    }
    for (SitePart s : sites) {
      Hashing.update(md, s.name());
      Hashing.update(md, s.symmetric() ? "symmetric" : "asymmetric");
    }
    return md.digest();
  }

  /**
   * D_int, the inner level of {@link #sha256} (and the whole of the earlier definition): SHA-256
   * over, in model order, every layer's name, bit width, integer levels, scales and zero points,
   * then every activation site's name, bit width, step and zero point (little-endian raw bits).
   */
  public static byte[] integerDigest(QuantState state) {
    MessageDigest md = Hashing.sha256();
    for (Map.Entry<Layer, WeightQuantizer> e : state.weightsInOrder()) {
      WeightQuantizer.Fixed f = fixed(e.getKey(), e.getValue());
      QParams p = f.params();
      Hashing.update(md, e.getKey().name());
      Hashing.update(md, new int[] {p.scheme().bits()});
      Hashing.update(md, f.levels());
      Hashing.update(md, scales(p));
      Hashing.update(md, zeroPoints(p));
    }
    for (ActQuantizer a : state.actsInOrder()) {
      QParams p = a.params();
      Hashing.update(md, a.site());
      Hashing.update(md, new int[] {p.scheme().bits()});
      Hashing.update(md, scales(p));
      Hashing.update(md, zeroPoints(p));
    }
    return md.digest();
  }

  private static WeightQuantizer.Fixed fixed(Layer l, WeightQuantizer q) {
    Check.state(q instanceof WeightQuantizer.Fixed,
        "layer %s still has soft rounding; harden it before export", l.name());
    return (WeightQuantizer.Fixed) q;
  }

  private static float[] scales(QParams p) {
    float[] s = new float[p.channels()];
    for (int i = 0; i < s.length; i++) {
      s[i] = p.scale(i);
    }
    return s;
  }

  private static int[] zeroPoints(QParams p) {
    int[] z = new int[p.channels()];
    for (int i = 0; i < z.length; i++) {
      z[i] = (int) p.zeroPoint(i);
    }
    return z;
  }

  private static long[] shape(int... s) {
    long[] out = new long[s.length];
    for (int i = 0; i < s.length; i++) {
      out[i] = s[i];
    }
    return out;
  }

  /** Writes the quantized model; {@code extraMetadata} is added to the header metadata. */
  public static void write(Path file, QuantState state, Map<String, String> extraMetadata)
      throws IOException {
    List<TensorEntry> entries = new ArrayList<>();
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "qlimit-quantized-v1");
    meta.put("arch", state.model().arch());
    for (Map.Entry<Layer, WeightQuantizer> e : state.weightsInOrder()) {
      Layer l = e.getKey();
      WeightQuantizer.Fixed f = fixed(l, e.getValue());
      QParams p = f.params();
      entries.add(TensorEntry.i32(l.name() + ".weight_int", shape(l.weight().shape()),
          f.levels()));
      entries.add(TensorEntry.f32(l.name() + ".weight_scale", shape(p.channels()), scales(p)));
      entries.add(TensorEntry.i32(l.name() + ".weight_zero_point", shape(p.channels()),
          zeroPoints(p)));
      if (l.bias() != null) {
        entries.add(TensorEntry.f32(l.name() + ".bias", shape(l.bias().shape()),
            l.bias().value().contiguous().data()));
      }
      meta.put(l.name() + ".weight_bits", Integer.toString(p.scheme().bits()));
      meta.put(l.name() + ".weight_scheme", schemeName(p.scheme()));
    }
    for (ActQuantizer a : state.actsInOrder()) {
      QParams p = a.params();
      entries.add(TensorEntry.f32(a.site() + ".act_scale", shape(1), scales(p)));
      entries.add(TensorEntry.i32(a.site() + ".act_zero_point", shape(1), zeroPoints(p)));
      meta.put(a.site() + ".act_bits", Integer.toString(p.scheme().bits()));
      meta.put(a.site() + ".act_scheme", schemeName(p.scheme()));
    }
    meta.putAll(extraMetadata);
    SafeTensors.write(file, entries, meta);
  }

  private static String schemeName(QScheme s) {
    return s.symmetric() ? "symmetric" : "asymmetric";
  }

  private static QScheme scheme(Map<String, String> meta, String key, String bitsKey) {
    String b = meta.get(bitsKey);
    Check.arg(b != null, "quantized model: metadata %s is missing", bitsKey);
    int bits;
    try {
      bits = Integer.parseInt(b);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("quantized model: metadata " + bitsKey + " = '" + b
          + "' is not a bit width");
    }
    String sch = meta.getOrDefault(key, "asymmetric");
    Check.arg(sch.equals("asymmetric") || sch.equals("symmetric"),
        "quantized model: metadata %s = '%s' is neither asymmetric nor symmetric", key, sch);
    return sch.equals("symmetric") ? QScheme.symmetric(bits) : QScheme.asymmetric(bits);
  }

  /** A scale tensor of the file: every value finite and positive, else an error naming it. */
  private static float[] scalesOf(SafeTensorsFile f, String name, int n) {
    float[] s = f.require(name, n).asFloats();
    for (int i = 0; i < s.length; i++) {
      Check.arg(Float.isFinite(s[i]) && s[i] > 0f, "%s: tensor %s has %s at index %d (scales "
          + "must be finite and positive)", f.source(), name, Check.describe(s[i]), i);
    }
    return s;
  }

  /**
   * Reads a file written by {@link #write} back into a quantization of {@code model}: every layer
   * gets its fixed integer weight, every activation site in the file its quantizer. The file must
   * name the model's architecture and hold every layer; a tensor of the wrong shape, a level
   * outside its bit width, a scale that is not finite and positive, or an unknown site is an
   * error naming it. (The FP biases are the model's own; the file's copies are not read.)
   */
  public static QuantState read(Path file, Model model) throws IOException {
    return read(SafeTensors.read(file), model);
  }

  /** {@link #read(Path, Model)} on a file already read (e.g. to look at its metadata first). */
  public static QuantState read(SafeTensorsFile f, Model model) {
    Path file = f.source();
    Map<String, String> meta = f.metadata();
    Check.arg("qlimit-quantized-v1".equals(meta.get("format")),
        "%s: not a qlimit quantized model (metadata format = %s)", file, meta.get("format"));
    Check.arg(model.arch().equals(meta.get("arch")),
        "%s: quantizes architecture %s, not %s", file, meta.get("arch"), model.arch());
    QuantState state = new QuantState(model);
    for (Layer l : model.layers()) {
      String n = l.name();
      int[] levels = f.require(n + ".weight_int", shape(l.weight().shape())).asInts();
      float[] s = scalesOf(f, n + ".weight_scale", l.outChannels());
      int[] z = f.require(n + ".weight_zero_point", l.outChannels()).asInts();
      QScheme sch = scheme(meta, n + ".weight_scheme", n + ".weight_bits");
      float[] zf = new float[z.length];
      for (int c = 0; c < z.length; c++) {
        zf[c] = z[c];
      }
      state.setWeight(l, WeightQuantizer.Fixed.fromLevels(l, new QParams(s, zf, sch), levels));
    }
    for (String name : f.names()) {
      if (name.endsWith(".act_scale")) {
        String site = name.substring(0, name.length() - ".act_scale".length());
        Check.arg(model.actSites().contains(site), "%s: activation site %s is not part of %s",
            file, site, model.arch());
        float s = scalesOf(f, name, 1)[0];
        int z = f.require(site + ".act_zero_point", 1).asInts()[0];
        QScheme sch = scheme(meta, site + ".act_scheme", site + ".act_bits");
        state.setAct(site, new ActQuantizer(site, QParams.perTensor(s, z, sch), true));
      }
    }
    return state;
  }
}
