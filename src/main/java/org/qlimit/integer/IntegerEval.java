package org.qlimit.integer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.IntKernels;
import org.qlimit.kernel.Kernels;
import org.qlimit.quant.QuantState;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.trace.FakeQuantTrace;
import org.qlimit.trace.SiteTensor;

/**
 * The integer path and the fake-quantized path side by side on the first images of a set:
 * top-1 of each and, per activation site, where the integer path departs ({@link Departures}).
 */
public final class IntegerEval {
  private IntegerEval() {}

  /** Called after each batch with the images done so far. */
  @FunctionalInterface
  public interface Progress {
    Progress NONE = (done, total) -> { };

    void update(int done, int total);
  }

  /**
   * Runs both paths on images [0, limit) of {@code set} in batches of {@code batch}.
   *
   * @param state the quantized model ({@code net} compiled from it). Not modified.
   * @param ik the integer kernels ({@code ik} and {@code k}: thread count and vector width never
   *     change a result)
   * @param k the float kernels of the fake-quantized path
   */
  public static Result compare(IntegerNetwork net, QuantState state, IntKernels ik, Kernels k,
      LabeledImages set, Normalization norm, int limit, int batch, Progress progress) {
    Check.arg(limit >= 0 && limit <= set.n(), "limit %d outside 0..%d", limit, set.n());
    Check.arg(batch >= 1, "batch must be >= 1, got %d", batch);
    Result r = new Result(new Departures(), new Departures());
    for (int from = 0; from < limit; from += batch) {
      int to = Math.min(limit, from + batch);
      Tensor images = Evaluator.batch(set, norm, from, to);
      compareBatch(net, state, ik, k, images, Arrays.copyOfRange(set.labels(), from, to), r);
      progress.update(to, limit);
    }
    return r;
  }

  /**
   * The two comparisons: {@code endToEnd}, both paths from the same image; {@code perUnit}, each
   * integer unit from the fake-quantized path's input of that unit
   * ({@link IntegerNetwork#runEachUnit}), so that a site shows its unit's own departures.
   */
  public record Result(Departures endToEnd, Departures perUnit) {}

  /**
   * Adds one batch to {@code into}: images (N, C, H, W) normalised, labels (N).
   *
   * @param into Modified.
   */
  public static void compareBatch(IntegerNetwork net, QuantState state, IntKernels ik, Kernels k,
      Tensor images, int[] labels, Result into) {
    Map<String, SiteTensor> fake = new LinkedHashMap<>();
    List<Tensor> unitInputs = new ArrayList<>();
    Tensor fakeLogits = FakeQuantTrace.run(state, k, images, t -> fake.put(t.site(), t),
        unitInputs::add);
    Tensor intLogits = net.run(ik, images, t -> add(into.endToEnd(), t, fake, state));
    into.endToEnd().addLogits(intLogits, fakeLogits, labels);
    Tensor localLogits = net.runEachUnit(ik, unitInputs, t -> add(into.perUnit(), t, fake, state));
    into.perUnit().addLogits(localLogits, fakeLogits, labels);
  }

  private static void add(Departures d, SiteTensor t, Map<String, SiteTensor> fake,
      QuantState state) {
    SiteTensor f = fake.get(t.site());
    Check.state(f != null, "site %s: the fake-quantized path has no levels there", t.site());
    d.addSite(t, f, state.act(t.site()).params().scheme().bits());
  }
}
