package org.qlimit.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.nn.Unit;

/**
 * Collects the units of a network while its definition runs, in one of two modes:
 *
 * <ul>
 *   <li>loading: every layer {@link StateDict#take}s its tensors (name and shape checked) from a
 *       checkpoint, units are BatchNorm-folded on request, and {@link #model} rejects unused
 *       tensors;</li>
 *   <li>fresh: every layer first writes freshly initialised tensors ({@link Init}) under the same
 *       names into a new state dict, then takes them back, so a fresh state dict always has
 *       exactly the names and shapes that loading expects.</li>
 * </ul>
 *
 * <p>A network definition is therefore written once, as code that calls {@link #convBn},
 * {@link #linear} and {@link #add} in execution order.
 */
final class NetBuilder {
  private final StateDict sd;
  private final SplittableRandom rng;
  private final boolean fold;
  private final List<Unit> units = new ArrayList<>();

  private NetBuilder(StateDict sd, SplittableRandom rng, boolean fold) {
    this.sd = sd;
    this.rng = rng;
    this.fold = fold;
  }

  /** Builds from {@code sd}; BatchNorm {@code num_batches_tracked} counters may stay unused. */
  static NetBuilder loading(StateDict sd, boolean fold) {
    sd.ignoreSuffix("num_batches_tracked");
    return new NetBuilder(sd, null, fold);
  }

  /** Creates fresh weights from {@code rng} (BatchNorm kept, for training). */
  static NetBuilder fresh(String source, SplittableRandom rng) {
    return new NetBuilder(new StateDict(source), rng, false);
  }

  /** The state dict read from (loading) or written to (fresh). */
  StateDict stateDict() {
    return sd;
  }

  /**
   * A bias-free k×k convolution (padding k/2) named {@code conv} followed by BatchNorm
   * {@code bn}. Fresh weights: Kaiming-normal (fan-out), BN γ = 1, β = 0, mean 0, var 1.
   */
  ConvBn convBn(String conv, String bn, int cin, int cout, int k, int stride, int groups) {
    if (rng != null) {
      Init.kaimingConv(sd, conv, cin, cout, k, groups, rng);
      Init.batchNorm(sd, bn, cout);
    }
    return ConvBn.load(sd, conv, bn, cin, cout, k, stride, k / 2, groups, false);
  }

  /** A linear layer with bias. Fresh weights: PyTorch's default uniform init. */
  Linear linear(String name, int in, int out) {
    if (rng != null) {
      Init.linear(sd, name, in, out, rng);
    }
    // Folded (evaluation/quantization) models are frozen: their parameters take no gradient.
    return new Linear(name, new Var(sd.take(name + ".weight", out, in), !fold, name + ".weight"),
        new Var(sd.take(name + ".bias", out), !fold, name + ".bias"));
  }

  /** Appends a unit, BatchNorm-folded when this builder folds. */
  void add(Unit u) {
    units.add(fold ? folded(u) : u);
  }

  /** The network; when loading, fails if the checkpoint holds tensors that were not used. */
  Model model(String arch, int inChannels, int size, int classes) {
    if (rng == null) {
      sd.requireAllTaken();
    }
    return new Model(arch, units, new int[] {inChannels, size, size}, classes);
  }

  static Unit folded(Unit u) {
    if (u instanceof ConvUnit c) {
      return c.folded();
    } else if (u instanceof PooledConvUnit p) {
      return p.folded();
    } else if (u instanceof BasicBlock b) {
      return b.folded();
    } else if (u instanceof Bottleneck b) {
      return b.folded();
    } else if (u instanceof InvertedResidual r) {
      return r.folded();
    } else if (u instanceof RegNetBlock r) {
      return r.folded();
    } else if (u instanceof Head) {
      return u;
    }
    throw new IllegalArgumentException("cannot fold unit " + u.name() + " of kind " + u.kind());
  }
}
