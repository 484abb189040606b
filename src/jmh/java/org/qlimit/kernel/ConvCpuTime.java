package org.qlimit.kernel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import org.qlimit.util.NumericsConfig;

/**
 * CPU time per call of the SIMD conv2d forward, backward-data and backward-weight at the
 * preferred vector width, at batch 32, on the layers of the reference networks: ResNet-20's 3×3
 * pad-1 layers (the shapes of {@link ConvBench}) and MobileNetV2-small's depthwise and pointwise
 * ones. On a machine shared with other jobs, wall-clock scores (JMH) move by several times
 * between runs; CPU time moves by a few percent, so before/after comparisons are made with this.
 * Uses only the public {@link Kernels} API, so the same source runs against an older jar:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/benchmarks.jar org.qlimit.kernel.ConvCpuTime [-t THREADS] [LAYER...]
 * java --add-modules jdk.incubator.vector -cp OLD.jar src/jmh/java/org/qlimit/kernel/ConvCpuTime.java [-t THREADS] [LAYER...]
 * </pre>
 *
 * A LAYER is {@code C@S} (C→C channels, 3×3, stride 1, pad 1, S×S input; default 16@28 32@14
 * 64@7), {@code dwC@S} or {@code dwC@S/2} (depthwise 3×3, pad 1, stride 1 or 2), or
 * {@code pwCIN-COUT@S} (pointwise 1×1). {@code tools/libtorch-conv-cputime.py} reads the same
 * names. Prints, per pass and layer, the median (min, max) of 9 timings of 10 calls each (50
 * with more than one thread), after 60 warm-up calls, and GFLOP/s = 2·macs / time. With one thread (the default) the time is the
 * calling thread's CPU time; with {@code -t N} it is the process's CPU time (all threads) and the
 * wall time beside it. For depthwise layers it also prints the memory-traffic bound: the bytes a
 * pass must move at least (each input, output and weight array once) over the copy bandwidth of
 * this JVM, measured first (64 MiB float arrays, {@link System#arraycopy}, median of 9).
 */
public final class ConvCpuTime {
  private ConvCpuTime() {}

  public static void main(String[] args) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean();
    int threads = 1;
    java.util.List<String> layers = new java.util.ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("-t")) {
        threads = Integer.parseInt(args[++i]);
      } else {
        layers.add(args[i]);
      }
    }
    if (layers.isEmpty()) {
      layers = java.util.List.of("16@28", "32@14", "64@7");
    }
    Kernels k = Kernels.of(new NumericsConfig(NumericsConfig.preferredVectorBits(), threads));
    System.out.println("vector bits " + k.config().vectorBits() + ", " + threads
        + " thread(s), batch 32, " + (threads == 1 ? "thread" : "process") + " CPU time");
    double gbs = layers.stream().anyMatch(l -> l.startsWith("dw")) ? copyBandwidth() : 0;
    if (gbs > 0) {
      System.out.printf("copy bandwidth %.1f GB/s (read + write)%n", gbs);
    }
    for (String layer : layers) {
      ConvShape s = shape(layer);
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
        // the process clock ticks in 10 ms steps: longer rounds with more than one thread
        int calls = threads == 1 ? 10 : 50;
        double[] ms = new double[9];
        double[] wall = new double[9];
        for (int rep = 0; rep < ms.length; rep++) {
          long t0 = threads == 1 ? mx.getCurrentThreadCpuTime() : os.getProcessCpuTime();
          long w0 = System.nanoTime();
          for (int i = 0; i < calls; i++) {
            r.run();
          }
          long t1 = threads == 1 ? mx.getCurrentThreadCpuTime() : os.getProcessCpuTime();
          ms[rep] = (t1 - t0) / 1e6 / calls;
          wall[rep] = (System.nanoTime() - w0) / 1e6 / calls;
        }
        Arrays.sort(ms);
        Arrays.sort(wall);
        String extra = threads == 1 ? "" : String.format("  wall ms/call %.2f", wall[4]);
        if (gbs > 0 && layer.startsWith("dw")) {
          // the least a pass moves: forward reads x, w and writes y; backward-data reads dy, w
          // and writes dx; backward-weight reads dy, x and writes dw
          long floats = pass.equals("backwardWeight") ? s.outputSize() + s.inputSize()
              + s.weightSize() : s.inputSize() + s.outputSize() + s.weightSize();
          double boundMs = floats * 4.0 / (gbs * 1e9) * 1e3;
          extra += String.format("  bandwidth bound %.3f ms (%.1fx)", boundMs,
              (threads == 1 ? ms[4] : wall[4]) / boundMs);
        }
        System.out.printf("%-14s %-10s CPU ms/call %.2f (%.2f-%.2f)  %.1f GFLOP/s%s%n", pass,
            layer, ms[4], ms[0], ms[8], gflop / (ms[4] / 1e3), extra);
      }
    }
  }

  /** The layer a name of the class comment stands for, at batch 32. */
  static ConvShape shape(String layer) {
    String[] p = layer.split("@");
    if (p.length != 2) {
      throw new IllegalArgumentException("layer '" + layer + "': expected C@S, dwC@S[/2] or "
          + "pwCIN-COUT@S");
    }
    String[] sizeStride = p[1].split("/");
    int hw = Integer.parseInt(sizeStride[0]);
    int stride = sizeStride.length > 1 ? Integer.parseInt(sizeStride[1]) : 1;
    if (p[0].startsWith("dw")) {
      int c = Integer.parseInt(p[0].substring(2));
      return new ConvShape(32, c, hw, hw, c, 3, 3, stride, 1, c);
    }
    if (p[0].startsWith("pw")) {
      String[] io = p[0].substring(2).split("-");
      return new ConvShape(32, Integer.parseInt(io[0]), hw, hw, Integer.parseInt(io[1]), 1, 1,
          1, 0, 1);
    }
    int c = Integer.parseInt(p[0]);
    return new ConvShape(32, c, hw, hw, c, 3, 3, 1, 1, 1);
  }

  /** GB/s of System.arraycopy between two 64 MiB float arrays, bytes read + written, median. */
  private static double copyBandwidth() {
    float[] a = uniform(5, 16L << 20);
    float[] c = new float[a.length];
    double[] gbs = new double[9];
    for (int i = 0; i < 3; i++) {
      System.arraycopy(a, 0, c, 0, a.length);
    }
    for (int rep = 0; rep < gbs.length; rep++) {
      long t0 = System.nanoTime();
      System.arraycopy(a, 0, c, 0, a.length);
      gbs[rep] = 2.0 * a.length * 4 / (System.nanoTime() - t0);
    }
    Arrays.sort(gbs);
    return gbs[4];
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
