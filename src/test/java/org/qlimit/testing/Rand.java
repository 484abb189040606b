package org.qlimit.testing;

import java.util.SplittableRandom;
import org.qlimit.autograd.Var;
import org.qlimit.tensor.Tensor;

/** Seeded test data. */
public final class Rand {
  private Rand() {}

  public static float[] normal(long seed, int n) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      double u1 = 1.0 - r.nextDouble();
      double u2 = r.nextDouble();
      a[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }
    return a;
  }

  /** Normal values moved at least {@code gap} away from each kink in {@code kinks}. */
  public static float[] awayFrom(long seed, int n, float gap, float... kinks) {
    float[] a = normal(seed, n);
    for (int i = 0; i < n; i++) {
      for (float k : kinks) {
        if (Math.abs(a[i] - k) < gap) {
          a[i] = k + (a[i] >= k ? gap : -gap) * 2;
        }
      }
    }
    return a;
  }

  public static Tensor tensor(long seed, int... shape) {
    return Tensor.of(normal(seed, (int) Tensor.numel(shape)), shape);
  }

  public static Var param(String name, long seed, int... shape) {
    return Var.param(name, tensor(seed, shape));
  }
}
