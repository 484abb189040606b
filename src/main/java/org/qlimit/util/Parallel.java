package org.qlimit.util;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ExecutionException;
import java.util.function.IntConsumer;

/**
 * A fixed pool of daemon worker threads that splits a loop over independent outputs.
 *
 * <p>{@link #forRange} hands each task a contiguous chunk of [0, n). Callers must only parallelise
 * over outputs that do not share a reduction (rows, output channels, batch items), so the result
 * is the same for any thread count.
 */
public final class Parallel {
  private static final Object LOCK = new Object();
  private static ExecutorService pool;
  private static int poolSize;

  private Parallel() {}

  /** Body over a half-open chunk [from, to). */
  @FunctionalInterface
  public interface RangeBody {
    void run(int from, int to);
  }

  private static ExecutorService pool(int threads) {
    synchronized (LOCK) {
      if (pool == null || poolSize < threads) {
        if (pool != null) {
          pool.shutdown();
        }
        ThreadFactory tf = r -> {
          Thread t = new Thread(r, "qlimit-worker");
          t.setDaemon(true);
          return t;
        };
        pool = Executors.newFixedThreadPool(threads, tf);
        poolSize = threads;
      }
      return pool;
    }
  }

  /**
   * Runs {@code body} over [0, n) split into at most {@code threads} contiguous chunks. With one
   * thread (or n small) it runs inline on the caller.
   */
  public static void forRange(int threads, int n, RangeBody body) {
    if (n <= 0) {
      return;
    }
    int t = Math.min(threads, n);
    if (t <= 1 || Thread.currentThread().getName().equals("qlimit-worker")) {
      body.run(0, n);
      return;
    }
    ExecutorService ex = pool(t);
    List<Future<?>> fs = new ArrayList<>(t - 1);
    int chunk = (n + t - 1) / t;
    for (int c = 1; c < t; c++) {
      int from = c * chunk;
      int to = Math.min(n, from + chunk);
      if (from >= to) {
        break;
      }
      fs.add(ex.submit(() -> body.run(from, to)));
    }
    body.run(0, Math.min(n, chunk));
    for (Future<?> f : fs) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        Throwable c = e.getCause();
        if (c instanceof RuntimeException re) {
          throw re;
        }
        if (c instanceof Error er) {
          throw er;
        }
        throw new IllegalStateException(c);
      }
    }
  }

  /** Runs body(i) for each i in [0, n), chunked across threads. */
  public static void forEach(int threads, int n, IntConsumer body) {
    forRange(threads, n, (a, b) -> {
      for (int i = a; i < b; i++) {
        body.accept(i);
      }
    });
  }
}
