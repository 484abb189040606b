package org.qlimit.recon;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.TensorEntry;
import org.qlimit.nn.Layer;
import org.qlimit.quant.ActQuantizer;
import org.qlimit.quant.QParams;
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
 * ({@code LAYER.weight_bits}, {@code SITE.act_bits}), with the architecture name.
 */
public final class QuantExport {
  private QuantExport() {}

  /**
   * SHA-256 over, in model order, every layer's name, bit width, integer levels, scales and zero
   * points, then every activation site's name, bit width, step and zero point (little-endian raw
   * bits). Identical results give identical hashes.
   */
  public static String sha256(QuantState state) {
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
    return Hashing.hex(md.digest());
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
    }
    for (ActQuantizer a : state.actsInOrder()) {
      QParams p = a.params();
      entries.add(TensorEntry.f32(a.site() + ".act_scale", shape(1), scales(p)));
      entries.add(TensorEntry.i32(a.site() + ".act_zero_point", shape(1), zeroPoints(p)));
      meta.put(a.site() + ".act_bits", Integer.toString(p.scheme().bits()));
    }
    meta.putAll(extraMetadata);
    SafeTensors.write(file, entries, meta);
  }
}
