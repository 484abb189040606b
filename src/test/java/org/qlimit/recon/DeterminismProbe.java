package org.qlimit.recon;

import org.qlimit.tensor.Tensor;

/**
 * Runs {@link ReconDeterminismTest#tinyQdrop} once per configuration given as arguments
 * ({@code BITS:THREADS}, BITS = 0 for the scalar path) and prints one line per run:
 * {@code BITS THREADS SHA256}. {@link JdkMatrixTest} starts it on other installed JDKs.
 */
public final class DeterminismProbe {
  private DeterminismProbe() {}

  public static void main(String[] args) throws Exception {
    Tensor calib = ReconDeterminismTest.calibration();
    for (String a : args) {
      String[] p = a.split(":");
      int bits = Integer.parseInt(p[0]);
      int threads = Integer.parseInt(p[1]);
      String sha = ReconDeterminismTest.run(ReconDeterminismTest.tinyQdrop(), bits, threads, calib);
      System.out.println(bits + " " + threads + " " + sha);
    }
  }
}
