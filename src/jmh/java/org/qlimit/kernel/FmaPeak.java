package org.qlimit.kernel;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's float FMA throughput per thread, alone and with every thread busy at once: the
 * ceiling of the convolution and GEMM register tiles (6 rows × 2 vectors of 12 accumulators, as
 * in {@code SimdOps.microKernel}, here without memory traffic beyond L1). It answers two questions
 * a kernel figure needs: how far a kernel is from the core's peak, and whether the logical CPUs
 * the JVM sees are separate cores (the per-thread rate holds when all run) or hardware threads of
 * one core sharing its FMA units (the per-thread rate halves, and no kernel can scale with them).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/qlimit.jar src/jmh/java/org/qlimit/kernel/FmaPeak.java [threads]
 * </pre>
 *
 * Prints per thread count (1, then {@code threads}, default all available processors) the
 * thread-CPU-time GFLOP/s of each thread over 15 rounds of about 0.2 s: median (min–max). Thread
 * CPU time counts what the thread ran, so other processes lower the figures only through shared
 * hardware (a busy sibling hardware thread), which is what the second line shows.
 */
public final class FmaPeak {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int ROUNDS = 15;
  private static final int STEPS = 200_000;

  private FmaPeak() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0])
        : Runtime.getRuntime().availableProcessors();
    System.out.printf("FMA throughput, %d-bit float vectors, 6 x 2-vector register tile%n",
        S.vectorBitSize());
    for (int t : threads > 1 ? new int[] {1, threads} : new int[] {1}) {
      double[][] g = measure(t);
      for (int i = 0; i < t; i++) {
        double[] r = g[i].clone();
        Arrays.sort(r);
        System.out.printf("%d thread(s) at once, thread %d: %.1f GFLOP/s (%.1f-%.1f)%n", t, i,
            r[r.length / 2], r[0], r[r.length - 1]);
      }
    }
  }

  /** GFLOP/s per thread and round, all threads starting each round together. */
  private static double[][] measure(int threads) throws Exception {
    double[][] out = new double[threads][ROUNDS];
    CyclicBarrier start = new CyclicBarrier(threads);
    Thread[] ts = new Thread[threads];
    Throwable[] failure = new Throwable[1];
    for (int i = 0; i < threads; i++) {
      final int id = i;
      ts[i] = new Thread(() -> {
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        float[] b = new float[4096];
        for (int j = 0; j < b.length; j++) {
          b[j] = 1e-6f * j;
        }
        float sink = 0;
        try {
          for (int w = 0; w < 30; w++) {
            sink += tile(b, STEPS / 10);
          }
          for (int r = 0; r < ROUNDS; r++) {
            start.await();
            long t0 = mx.getCurrentThreadCpuTime();
            sink += tile(b, STEPS);
            long ns = mx.getCurrentThreadCpuTime() - t0;
            out[id][r] = (double) STEPS * 12 * S.length() * 2 / ns;
          }
        } catch (Exception e) {
          failure[0] = e;
        }
        if (sink == 42) {
          System.out.print("");
        }
      });
      ts[i].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    if (failure[0] != null) {
      throw new IllegalStateException(failure[0]);
    }
    return out;
  }

  /** {@code steps} iterations of 12 independent vector FMAs on two B vectors and six A values. */
  private static float tile(float[] b, int steps) {
    FloatVector z = FloatVector.zero(S);
    FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
    FloatVector c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
    int l = S.length();
    for (int p = 0; p < steps; p++) {
      int o = (p & 63) * 2 * l;
      FloatVector b0 = FloatVector.fromArray(S, b, o);
      FloatVector b1 = FloatVector.fromArray(S, b, o + l);
      int ai = p & 1023;
      FloatVector a = FloatVector.broadcast(S, b[ai]);
      c00 = a.fma(b0, c00);
      c01 = a.fma(b1, c01);
      a = FloatVector.broadcast(S, b[ai + 1]);
      c10 = a.fma(b0, c10);
      c11 = a.fma(b1, c11);
      a = FloatVector.broadcast(S, b[ai + 2]);
      c20 = a.fma(b0, c20);
      c21 = a.fma(b1, c21);
      a = FloatVector.broadcast(S, b[ai + 3]);
      c30 = a.fma(b0, c30);
      c31 = a.fma(b1, c31);
      a = FloatVector.broadcast(S, b[ai + 4]);
      c40 = a.fma(b0, c40);
      c41 = a.fma(b1, c41);
      a = FloatVector.broadcast(S, b[ai + 5]);
      c50 = a.fma(b0, c50);
      c51 = a.fma(b1, c51);
    }
    FloatVector s = c00.add(c01).add(c10).add(c11).add(c20).add(c21).add(c30).add(c31)
        .add(c40).add(c41).add(c50).add(c51);
    return s.reduceLanes(VectorOperators.MAX);
  }
}
