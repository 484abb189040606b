package org.qlimit.run;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.quant.WeightQuantizer;
import org.qlimit.recon.Reconstructor;
import org.qlimit.recon.UnitRecord;

/**
 * The finished weight phase of an AdaRound or BRECQ run (ALGORITHMS.md §4.1, §4.3): every layer's
 * hardened integer weight and the phase's unit records, with the key of everything it depends on
 * (model file, architecture, calibration images, every reconstruction setting except the
 * activation bits, per-layer bits).
 *
 * <p>The weight phase runs with unquantized activations and never reads the activation bits, so a
 * run that differs from the one that learned it only in {@code abits} may start from it
 * ({@link QuantizationRun.Builder#reuseWeightPhase}) instead of learning it again: it then runs
 * only the activation calibration (and BRECQ's activation phase) and ends with the same bits as
 * a run from scratch. {@code qlimit demo} uses this for its W2A2 AdaRound and BRECQ runs.
 *
 * <p>Immutable: the integer weights are the {@link WeightQuantizer.Fixed} records of the run,
 * which no later phase changes.
 */
public final class WeightPhase {
  private final String key;
  private final int abits;
  private final Map<String, WeightQuantizer.Fixed> weights;
  private final List<UnitRecord> records;

  private WeightPhase(String key, int abits, Map<String, WeightQuantizer.Fixed> weights,
      List<UnitRecord> records) {
    this.key = key;
    this.abits = abits;
    this.weights = Collections.unmodifiableMap(weights);
    this.records = List.copyOf(records);
  }

  /**
   * The weight phase as a run's checkpoint after its last weight unit holds it.
   *
   * @param key the weight-phase key of the run (SHA-256 hex)
   * @param abits the activation bits of the run that learned it (reported by runs reusing it)
   * @return the phase, or null when a layer's weight is not fixed (a unit is being learned)
   */
  static WeightPhase of(String key, int abits, Reconstructor.Checkpoint c) {
    Map<String, WeightQuantizer.Fixed> w = new LinkedHashMap<>();
    for (Map.Entry<Layer, WeightQuantizer> e : c.state().weightsInOrder()) {
      if (!(e.getValue() instanceof WeightQuantizer.Fixed f)) {
        return null;
      }
      w.put(e.getKey().name(), f);
    }
    return new WeightPhase(key, abits, w, c.records());
  }

  /** The key: SHA-256 (hex) over what the phase depends on. */
  public String key() {
    return key;
  }

  /** The activation bits of the run that learned the phase. */
  public int abits() {
    return abits;
  }

  /** The unit records of the phase, in run order. */
  public List<UnitRecord> records() {
    return records;
  }

  /**
   * A checkpoint of {@code model} (loaded from the same file) at the end of this phase, for
   * {@link Reconstructor#resumeFrom}.
   *
   * @throws IllegalArgumentException when the model lacks a layer of the phase or has another
   */
  Reconstructor.Checkpoint checkpointFor(Model model) {
    QuantState state = new QuantState(model);
    for (Layer l : model.layers()) {
      WeightQuantizer.Fixed f = weights.get(l.name());
      if (f == null) {
        throw new IllegalArgumentException("weight phase: no weight for layer " + l.name()
            + " of model " + model.arch());
      }
      state.setWeight(l, f);
    }
    if (weights.size() != model.layers().size()) {
      throw new IllegalArgumentException("weight phase: " + weights.size() + " layers, model "
          + model.arch() + " has " + model.layers().size());
    }
    return new Reconstructor.Checkpoint(state, records);
  }
}
