package org.qlimit.recon;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;

/**
 * The reconstruction granularity of BRECQ and QDrop (ALGORITHMS.md §4.4; BRECQ paper, Li et al.
 * ICLR 2021, §3.2 and its ablation of layer-, block-, stage- and network-wise reconstruction):
 * how the network is cut into the units that are reconstructed one at a time.
 *
 * <ul>
 *   <li>{@link #LAYER}: every convolution and linear layer on its own, with the activation
 *       function right after it and its own output quantizer (if it has one), against the FP
 *       layer output; block-level quantizers (after a residual addition) belong to no unit.</li>
 *   <li>{@link #BLOCK}: the model's units (stem and head layers, residual blocks): the
 *       methods' default.</li>
 *   <li>{@link #STAGE}: consecutive blocks whose outputs have the same spatial size (a ResNet's
 *       layer1, layer2, ...; a MobileNetV2's runs of equal resolution) form one unit; layer units
 *       (stem, last 1×1 conv, head) stay on their own.</li>
 *   <li>{@link #NET}: the whole network is one unit. BRECQ's first layer stays apart, because
 *       BRECQ does not reconstruct it (§5).</li>
 * </ul>
 */
public enum Granularity {
  LAYER,
  BLOCK,
  STAGE,
  NET;

  /** Parses a command-line name (layer, block, stage, net), case-insensitive. */
  public static Granularity parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown granularity '" + s + "'; choose one of layer, block, stage, net");
    }
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * The units reconstructed one after another at this granularity, in network order, for
   * {@link #BLOCK}, {@link #STAGE} and {@link #NET} ({@link #LAYER} cuts inside blocks and is
   * handled layer by layer). BLOCK returns {@code model.units()} itself; a group of one unit is
   * that unit, so names and order stay those of the model.
   *
   * @param keepFirstApart keep a first unit made of the first layer alone out of any group
   *     (BRECQ, which does not reconstruct it)
   * @throws IllegalArgumentException for LAYER
   */
  public List<Unit> partition(Model model, boolean keepFirstApart) {
    List<Unit> units = model.units();
    switch (this) {
      case BLOCK -> {
        return units;
      }
      case NET -> {
        List<Unit> out = new ArrayList<>();
        int from = 0;
        if (keepFirstApart && isLayerUnit(units.get(0))) {
          out.add(units.get(0));
          from = 1;
        }
        if (from < units.size()) {
          out.add(UnitGroup.of("net", units.subList(from, units.size())));
        }
        return out;
      }
      case STAGE -> {
        List<Unit> out = new ArrayList<>();
        List<Unit> run = new ArrayList<>();
        int[] shape = model.inputShape();
        int[] runShape = null;
        for (Unit u : units) {
          shape = u.outputShape(shape);
          int[] hw = shape.length == 3 ? new int[] {shape[1], shape[2]} : shape;
          if (isLayerUnit(u) || runShape == null || !Arrays.equals(hw, runShape)) {
            flush(out, run);
          }
          if (isLayerUnit(u)) {
            out.add(u);
            runShape = null;
          } else {
            run.add(u);
            runShape = hw;
          }
        }
        flush(out, run);
        return out;
      }
      default -> throw new IllegalArgumentException(
          "granularity layer has no unit list; it is reconstructed layer by layer");
    }
  }

  private static void flush(List<Unit> out, List<Unit> run) {
    if (!run.isEmpty()) {
      out.add(UnitGroup.of("stage", run));
      run.clear();
    }
  }

  /** A stem, last-conv or head unit: one weighted layer (kind "layer"), not a block. */
  static boolean isLayerUnit(Unit u) {
    return u.kind().equals("layer");
  }
}
