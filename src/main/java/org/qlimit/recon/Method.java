package org.qlimit.recon;

import java.util.Locale;

/** The post-training quantization methods qlimit implements (ALGORITHMS.md §4). */
public enum Method {
  /** Round to nearest after a range search; no reconstruction. */
  RTN,
  /** Layer-wise AdaRound on weights (Nagel et al., ICML 2020), ALGORITHMS.md §4.3. */
  ADAROUND,
  /** BRECQ (Li et al., ICLR 2021): block-wise AdaRound, then activation steps, §4.1. */
  BRECQ,
  /** QDrop (Wei et al., ICLR 2022): joint weights + steps with random dropping, §4.2. */
  QDROP;

  /** Parses a command-line name (rtn, adaround, brecq, qdrop), case-insensitive. */
  public static Method parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown method '" + s + "'; choose one of rtn, adaround, brecq, qdrop");
    }
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
