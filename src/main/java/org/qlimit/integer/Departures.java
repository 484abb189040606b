package org.qlimit.integer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.trace.SiteTensor;

/**
 * Where the integer path departs from the fake-quantized path, accumulated over batches: per
 * activation site (network order) the elements compared, how many differ and by how many
 * quantization steps (|Δ| = |q_int − q_fake|), and on the logits the top-1 of each path, how
 * often their argmax agrees and the largest |Δ logit|.
 *
 * <p>Both paths start from the same image, so a site's departures include those carried in from
 * earlier sites.
 */
public final class Departures {
  /** One site's counts. {@code steps1}, {@code steps2}: |Δ| = 1, 2; {@code steps3up}: |Δ| ≥ 3. */
  public record Site(String site, int bits, long elements, long differ, long steps1, long steps2,
      long steps3up, int maxSteps) {
    /** Percentage of elements that differ. */
    public double percentDiffer() {
      return elements == 0 ? 0 : 100.0 * differ / elements;
    }
  }

  private final Map<String, long[]> counts = new LinkedHashMap<>();
  private final Map<String, Integer> bits = new LinkedHashMap<>();
  private long images;
  private long intCorrect;
  private long fakeCorrect;
  private long sameArgmax;
  private double maxLogitDiff;

  /** Compares one site's levels from the two paths (same site, same shape). */
  public void addSite(SiteTensor integer, SiteTensor fake, int siteBits) {
    Check.arg(integer.site().equals(fake.site()), "comparing site %s with site %s",
        integer.site(), fake.site());
    Check.arg(java.util.Arrays.equals(integer.shape(), fake.shape()), "site %s: shapes %s and %s",
        integer.site(), java.util.Arrays.toString(integer.shape()),
        java.util.Arrays.toString(fake.shape()));
    long[] c = counts.computeIfAbsent(integer.site(), s -> new long[6]);
    bits.put(integer.site(), siteBits);
    int[] a = integer.levels();
    int[] b = fake.levels();
    for (int i = 0; i < a.length; i++) {
      int d = Math.abs(a[i] - b[i]);
      if (d != 0) {
        c[1]++;
        c[d == 1 ? 2 : d == 2 ? 3 : 4]++;
        c[5] = Math.max(c[5], d);
      }
    }
    c[0] += a.length;
  }

  /** Compares the logits (N, classes) of the two paths and scores both against the labels. */
  public void addLogits(Tensor integer, Tensor fake, int[] labels) {
    int n = integer.dim(0);
    int classes = integer.dim(1);
    float[] a = integer.contiguous().data();
    float[] b = fake.contiguous().data();
    Check.arg(a.length == b.length && labels.length == n, "logits: %d and %d values, %d labels",
        a.length, b.length, labels.length);
    for (int i = 0; i < n; i++) {
      int ai = argmax(a, i * classes, classes);
      int bi = argmax(b, i * classes, classes);
      intCorrect += ai == labels[i] ? 1 : 0;
      fakeCorrect += bi == labels[i] ? 1 : 0;
      sameArgmax += ai == bi ? 1 : 0;
      for (int j = i * classes; j < (i + 1) * classes; j++) {
        maxLogitDiff = Math.max(maxLogitDiff, Math.abs((double) a[j] - b[j]));
      }
    }
    images += n;
  }

  /** First index of the largest value (as Evaluator.argmax). */
  private static int argmax(float[] v, int off, int len) {
    int best = 0;
    for (int j = 1; j < len; j++) {
      if (v[off + j] > v[off + best]) {
        best = j;
      }
    }
    return best;
  }

  public List<Site> sites() {
    List<Site> out = new ArrayList<>();
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      long[] c = e.getValue();
      out.add(new Site(e.getKey(), bits.get(e.getKey()), c[0], c[1], c[2], c[3], c[4],
          (int) c[5]));
    }
    return out;
  }

  public long images() {
    return images;
  }

  public long integerCorrect() {
    return intCorrect;
  }

  public long fakeQuantCorrect() {
    return fakeCorrect;
  }

  public long sameArgmax() {
    return sameArgmax;
  }

  public double maxLogitDiff() {
    return maxLogitDiff;
  }

  /** The first site (network order) where any element differs, or null. */
  public String firstDepartingSite() {
    for (Site s : sites()) {
      if (s.differ() > 0) {
        return s.site();
      }
    }
    return null;
  }
}
