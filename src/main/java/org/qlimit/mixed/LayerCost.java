package org.qlimit.mixed;

import org.qlimit.recon.BitWidths;
import org.qlimit.util.Check;

/**
 * What one weighted layer costs per bit.
 *
 * @param layer layer name
 * @param unit name of the unit (block) that holds the layer
 * @param params weight elements (biases are not counted: they stay in FP32 in every assignment)
 * @param macs multiply-accumulates per input image
 * @param pinned first or last layer: weights (and their BitOPs) fixed at 8 bits (ALGORITHMS.md §5)
 */
public record LayerCost(String layer, String unit, long params, long macs, boolean pinned) {
  public LayerCost {
    Check.arg(params > 0 && macs > 0, "layer %s: params and MACs must be positive", layer);
  }

  /** Model-size contribution in bits: params · wbits. */
  public long sizeBits(int wbits) {
    return params * (pinned ? BitWidths.PINNED_BITS : wbits);
  }

  /**
   * BitOPs contribution per image: MACs · wbits · abits; a pinned layer counts 8 · 8 (its weights
   * are 8-bit; its input is the image or the 8-bit classifier input).
   */
  public long bitOps(int wbits, int abits) {
    return pinned ? macs * BitWidths.PINNED_BITS * BitWidths.PINNED_BITS : macs * wbits * abits;
  }
}
