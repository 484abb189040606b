package org.qlimit.quant;

import org.qlimit.util.Check;

/**
 * A uniform integer grid: bit width and signedness (ALGORITHMS.md §1).
 *
 * <ul>
 *   <li>asymmetric: levels {@code 0 .. 2^b − 1}, zero point free;
 *   <li>symmetric: levels {@code −2^(b−1) .. 2^(b−1) − 1}, zero point 0.
 * </ul>
 *
 * <p>The level bounds are those of QDrop's {@code ObserverBase} ({@code qdrop/quantization/observer.py}
 * l.29–34). Bits 2..16 are accepted (the references assert 2..8; 16 is allowed for experiments).
 *
 * @param bits number of bits, 2..16
 * @param symmetric whether the grid is signed and the zero point is fixed at 0
 */
public record QScheme(int bits, boolean symmetric) {

  public QScheme {
    Check.arg(bits >= 2 && bits <= 16, "QScheme: bits must be in 2..16, got %d", bits);
  }

  /** Asymmetric b-bit grid, the default of both references for weights and activations. */
  public static QScheme asymmetric(int bits) {
    return new QScheme(bits, false);
  }

  /** Symmetric (signed) b-bit grid. */
  public static QScheme symmetric(int bits) {
    return new QScheme(bits, true);
  }

  /** Smallest level: 0 (asymmetric) or −2^(b−1) (symmetric). */
  public int qmin() {
    return symmetric ? -(1 << (bits - 1)) : 0;
  }

  /** Largest level: 2^b − 1 (asymmetric) or 2^(b−1) − 1 (symmetric). */
  public int qmax() {
    return symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  }

  /** Number of intervals between the extreme levels: qmax − qmin = 2^b − 1 in both cases. */
  public int steps() {
    return qmax() - qmin();
  }
}
