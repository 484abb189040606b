package org.qlimit.mixed;

import java.util.Locale;
import org.qlimit.recon.BitWidths;
import org.qlimit.util.Check;

/**
 * A resource limit for a bit assignment: model size in bits, or BitOPs per image. Both count the
 * pinned first/last layers at 8 bits (ALGORITHMS.md §5).
 *
 * @param kind what is limited
 * @param limit the largest allowed value (bits, or BitOPs per image)
 * @param description how the user stated it, for messages
 */
public record Budget(Kind kind, long limit, String description) {
  /** The limited quantity. */
  public enum Kind {
    /** Σ params · weight bits. */
    SIZE_BITS,
    /** Σ MACs · weight bits · activation bits, per image. */
    BITOPS
  }

  public Budget {
    Check.arg(kind != null, "budget kind is required");
    Check.arg(limit > 0, "budget must be positive, got %d", limit);
  }

  /** Model size at most {@code mb} megabytes (10^6 bytes) of weights. */
  public static Budget sizeMegabytes(double mb) {
    Check.arg(mb > 0 && Double.isFinite(mb), "--size-budget-mb must be positive, got %s", mb);
    return new Budget(Kind.SIZE_BITS, (long) Math.floor(mb * 8e6),
        String.format(Locale.ROOT, "model size <= %.4f MB", mb));
  }

  /**
   * Model size at most that of a model whose searched layers all have {@code avg} bits (the first
   * and last layers at 8): Σ_free params · avg + Σ_pinned params · 8. Fractional values allowed.
   */
  public static Budget averageWeightBits(double avg, CostModel costs) {
    Check.arg(avg >= 1 && avg <= 32, "--avg-wbits must be in 1..32, got %s", avg);
    double bits = 0;
    for (LayerCost c : costs.layers()) {
      bits += c.pinned() ? c.sizeBits(BitWidths.PINNED_BITS) : c.params() * avg;
    }
    return new Budget(Kind.SIZE_BITS, (long) Math.floor(bits + 1e-6),
        String.format(Locale.ROOT, "average weight bits <= %.3f (size <= %.4f MB)", avg,
            bits / 8e6));
  }

  /** BitOPs per image at most {@code giga} · 10^9. */
  public static Budget bitOpsGiga(double giga) {
    Check.arg(giga > 0 && Double.isFinite(giga), "--bitops-budget must be positive, got %s", giga);
    return new Budget(Kind.BITOPS, (long) Math.floor(giga * 1e9),
        String.format(Locale.ROOT, "BitOPs <= %.4f G per image", giga));
  }

  /** The cost of one layer at {@code wbits} under this budget's measure. */
  public long cost(LayerCost c, int wbits, int abits) {
    return kind == Kind.SIZE_BITS ? c.sizeBits(wbits) : c.bitOps(wbits, abits);
  }

  /** A value of this budget's quantity, in its natural unit. */
  public String format(long v) {
    return kind == Kind.SIZE_BITS ? String.format(Locale.ROOT, "%.4f MB", v / 8e6)
        : String.format(Locale.ROOT, "%.4f GBitOPs", v / 1e9);
  }
}
