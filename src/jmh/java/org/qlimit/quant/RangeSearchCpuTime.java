package org.qlimit.quant;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.qlimit.kernel.Kernels;
import org.qlimit.util.NumericsConfig;

/**
 * Thread-CPU time of the Lp range searches at one thread and the preferred vector width, on a
 * ReLU-like activation of ResNet-20's first stage for 256 images (256×16×28×28 = 3 211 264
 * elements, about 45 % zeros, half-normal nonzeros with a long tail): one {@link Kernels#lpSum}
 * over the nonzero elements (one candidate), and the whole 4-bit activation searches
 * {@link Observers#gridLpRange} (QDrop, 100 candidates) and {@link Observers#shrinkLp} (BRECQ,
 * 80). Uses only public API, so the same source runs against an older jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/qlimit.jar src/jmh/java/org/qlimit/quant/RangeSearchCpuTime.java
 * java --add-modules jdk.incubator.vector -cp OLD.jar src/jmh/java/org/qlimit/quant/RangeSearchCpuTime.java
 * </pre>
 *
 * Prints the median (min, max) CPU ms per call of 5 timed calls after 3 warm-up calls, and the
 * chosen range (which must not change between jars).
 */
public final class RangeSearchCpuTime {
  private RangeSearchCpuTime() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Kernels k = Kernels.of(new NumericsConfig(NumericsConfig.preferredVectorBits(), 1));
    SplittableRandom r = new SplittableRandom(17);
    float[] x = new float[256 * 16 * 28 * 28];
    int nonZero = 0;
    for (int i = 0; i < x.length; i++) {
      double g = r.nextGaussian() + 0.1 * r.nextGaussian() * r.nextGaussian() * r.nextGaussian();
      x[i] = g > 0.12 ? (float) (g * 0.6) : 0f;
      nonZero += x[i] != 0f ? 1 : 0;
    }
    float[] nz = new float[nonZero];
    for (int i = 0, j = 0; i < x.length; i++) {
      if (x[i] != 0f) {
        nz[j++] = x[i];
      }
    }
    QScheme sch = QScheme.asymmetric(4);
    System.out.printf("vector bits %d, 1 thread, %d elements, %d nonzero%n",
        k.config().vectorBits(), x.length, nonZero);
    time(mx, "lpSum (1 candidate)", () -> String.valueOf(k.lpSum(nz, 0, nz.length, 0.05f, 0f,
        0, 15)));
    time(mx, "gridLpRange (100)", () -> {
      QRange q = Observers.gridLpRange(k, x, 1, sch, Observers.Side.POSITIVE);
      return "[" + q.lo()[0] + ", " + q.hi()[0] + "]";
    });
    time(mx, "shrinkLp (80)", () -> {
      QParams p = Observers.shrinkLp(k, x, 1, sch);
      return "s " + p.scale(0) + " z " + p.zeroPoint(0);
    });
  }

  private static void time(ThreadMXBean mx, String what, java.util.function.Supplier<String> f) {
    String result = "";
    for (int i = 0; i < 3; i++) {
      result = f.get();
    }
    double[] ms = new double[5];
    for (int rep = 0; rep < ms.length; rep++) {
      long t0 = mx.getCurrentThreadCpuTime();
      result = f.get();
      ms[rep] = (mx.getCurrentThreadCpuTime() - t0) / 1e6;
    }
    Arrays.sort(ms);
    System.out.printf("%-22s CPU ms/call %8.1f (%.1f-%.1f)  %s%n", what, ms[2], ms[0], ms[4],
        result);
  }
}
