package org.qlimit.peers;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Process CPU time and wall time per call of qlimit's conv2d passes and libtorch's, on the inputs
 * and settings of {@link ConvPeerBench} (its setup checks agreement and prints the peers'
 * configuration), for machines shared with other jobs where JMH's wall-clock scores move by
 * several times between runs. Per layer and thread count, the six calls (qlimit and libtorch ×
 * forward, backward-data, backward-weight) are timed in rounds, one batch of 10 calls each per
 * round, interleaved, so a pair sees the same background load; prints the median (min–max) of 9
 * rounds after 40 warm-up calls each, as CPU ms and wall ms per call. CPU time is that of the whole
 * process (the sum over its threads, Java and native, from /proc/self/task/TID/schedstat, so at
 * 2 threads it is the work of both; JIT and GC are idle after the warm-up). Command (after {@code mvn -Ppeers -DskipTests package}):
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/peers-benchmarks.jar \
 *     org.qlimit.peers.ConvPeerCpuTime [--threads 1,2] [16@28 32@14 64@7]
 * </pre>
 */
public final class ConvPeerCpuTime {
  private ConvPeerCpuTime() {}

  private static final String[] PASSES = {"forward", "backward-data", "backward-weight"};

  public static void main(String[] args) {
    int[] threadCounts = {1, 2};
    java.util.List<String> layers = new java.util.ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--threads")) {
        threadCounts = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
      } else {
        layers.add(args[i]);
      }
    }
    if (layers.isEmpty()) {
      layers = java.util.List.of("16@28", "32@14", "64@7");
    }
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Blackhole bh = new Blackhole(
        "Today's password is swordfish. I understand instantiating Blackholes directly is dangerous.");
    System.out.println("pass layer threads | qlimit CPU ms (min-max) wall ms | libtorch CPU ms "
        + "(min-max) wall ms | CPU ratio libtorch/qlimit | GFLOP/s per CPU second q / t");
    for (int threads : threadCounts) {
      for (String layer : layers) {
        ConvPeerBench b = new ConvPeerBench();
        b.layer = layer;
        b.threads = threads;
        b.setup();
        Runnable[] q = {b::qlimitForward, b::qlimitBackwardData, b::qlimitBackwardWeight};
        Runnable[] t = {() -> b.torchForward(bh), () -> b.torchBackwardData(bh),
            () -> b.torchBackwardWeight(bh)};
        for (int i = 0; i < 40; i++) {
          for (int p = 0; p < 3; p++) {
            q[p].run();
            t[p].run();
          }
        }
        double[][][] cpu = new double[3][2][9];
        double[][][] wall = new double[3][2][9];
        for (int round = 0; round < 9; round++) {
          for (int p = 0; p < 3; p++) {
            for (int side = 0; side < 2; side++) {
              Runnable r = side == 0 ? q[p] : t[p];
              long c0 = cpuNanos(os);
              long w0 = System.nanoTime();
              for (int i = 0; i < 10; i++) {
                r.run();
              }
              wall[p][side][round] = (System.nanoTime() - w0) / 1e7;
              cpu[p][side][round] = (cpuNanos(os) - c0) / 1e7;
            }
          }
        }
        double gflop = 2.0 * b.s.macs() / 1e9;
        for (int p = 0; p < 3; p++) {
          double[] cq = sorted(cpu[p][0]);
          double[] ct = sorted(cpu[p][1]);
          double wq = sorted(wall[p][0])[4];
          double wt = sorted(wall[p][1])[4];
          System.out.printf("%-15s %-6s %d | %.2f (%.2f-%.2f) %.2f | %.2f (%.2f-%.2f) %.2f | %.2f | "
                  + "%.1f / %.1f%n", PASSES[p], layer, threads, cq[4], cq[0], cq[8], wq, ct[4], ct[0],
              ct[8], wt, ct[4] / cq[4], gflop / (cq[4] / 1e3), gflop / (ct[4] / 1e3));
        }
        b.tearDown();
      }
    }
  }

  /**
   * CPU time of the whole process in ns: the sum of the on-CPU times of its threads (Java and
   * native) from /proc/self/task/TID/schedstat (nanosecond resolution); the operating system
   * bean's process CPU time (10 ms ticks on Linux) where /proc is not readable.
   */
  static long cpuNanos(com.sun.management.OperatingSystemMXBean os) {
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return os.getProcessCpuTime();
    }
    long sum = 0;
    for (java.io.File t : tasks) {
      try {
        String line = java.nio.file.Files.readString(new java.io.File(t, "schedstat").toPath());
        sum += Long.parseLong(line.substring(0, line.indexOf(' ')));
      } catch (java.io.IOException | RuntimeException e) {
        // a thread that ended between the listing and the read: its time is lost to both ends
      }
    }
    return sum;
  }

  private static double[] sorted(double[] x) {
    double[] c = x.clone();
    Arrays.sort(c);
    return c;
  }
}
