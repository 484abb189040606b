package org.qlimit.kernel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import org.qlimit.util.NumericsConfig;

/**
 * Thread-CPU time per call of the SIMD conv2d forward, backward-data and backward-weight at one
 * thread and the preferred vector width, on ResNet-20 3×3 pad-1 layers at batch 32 (the shapes of
 * {@link ConvBench}). On a machine shared with other jobs, wall-clock scores (JMH) move by several
 * times between runs; the CPU time of one thread moves by a few percent, so before/after
 * comparisons of a one-thread kernel are made with this. Uses only the public {@link Kernels} API,
 * so the same source runs against an older jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/benchmarks.jar org.qlimit.kernel.ConvCpuTime
 * java --add-modules jdk.incubator.vector -cp OLD.jar src/jmh/java/org/qlimit/kernel/ConvCpuTime.java
 * </pre>
 *
 * Prints, per pass and layer, the median (min, max) of 9 timings of 10 calls each, after 60 warm-up
 * calls, and GFLOP/s = 2·macs / CPU time. Arguments: layers as "channels@size" (default 16@28 32@14
 * 64@7).
 */
public final class ConvCpuTime {
  private ConvCpuTime() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Kernels k = Kernels.of(new NumericsConfig(NumericsConfig.preferredVectorBits(), 1));
    String[] layers = args.length > 0 ? args : new String[] {"16@28", "32@14", "64@7"};
    System.out.println("vector bits " + k.config().vectorBits() + ", 1 thread, batch 32");
    for (String layer : layers) {
      String[] p = layer.split("@");
      int c = Integer.parseInt(p[0]);
      int hw = Integer.parseInt(p[1]);
      ConvShape s = new ConvShape(32, c, hw, hw, c, 3, 3, 1, 1, 1);
      float[] x = uniform(1, s.inputSize());
      float[] w = uniform(2, s.weightSize());
      float[] b = uniform(3, s.cout());
      float[] dy = uniform(4, s.outputSize());
      float[] y = new float[(int) s.outputSize()];
      float[] dx = new float[(int) s.inputSize()];
      float[] dw = new float[(int) s.weightSize()];
      float[] db = new float[s.cout()];
      double gflop = 2.0 * s.macs() / 1e9;
      for (String pass : new String[] {"forward", "backwardData", "backwardWeight"}) {
        Runnable r = switch (pass) {
          case "forward" -> () -> k.conv2dForward(y, x, w, b, s);
          case "backwardData" -> () -> k.conv2dBackwardData(dx, dy, w, s);
          default -> () -> k.conv2dBackwardWeight(dw, db, dy, x, s);
        };
        for (int i = 0; i < 60; i++) {
          r.run();
        }
        double[] ms = new double[9];
        for (int rep = 0; rep < ms.length; rep++) {
          long t0 = mx.getCurrentThreadCpuTime();
          for (int i = 0; i < 10; i++) {
            r.run();
          }
          ms[rep] = (mx.getCurrentThreadCpuTime() - t0) / 1e7;
        }
        Arrays.sort(ms);
        System.out.printf("%-14s %-6s CPU ms/call %.2f (%.2f-%.2f)  %.1f GFLOP/s%n", pass, layer,
            ms[4], ms[0], ms[8], gflop / (ms[4] / 1e3));
      }
    }
  }

  private static float[] uniform(long seed, long n) {
    java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
    float[] a = new float[(int) n];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) (r.nextDouble() * 2 - 1);
    }
    return a;
  }
}
