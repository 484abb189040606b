package org.qlimit.quant;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.kernel.Kernels;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * A per-tensor activation quantizer at one activation site, with a learnable step (LSQ).
 *
 * <p>The step s is a trainable {@link Var} of shape [1]; the zero point is fixed after
 * calibration (both references keep it fixed). Forward: x̂ = (clamp(⌊x/s⌉ + z, qmin, qmax) − z)·s
 * ({@link FakeQuant}); with dropping (QDrop), each element keeps x̂ with probability
 * {@code prob} and takes x otherwise ({@link QDropMask}). Backward: STE for x where the value was
 * quantized and the clamp is inactive, identity where it was dropped; the LSQ step gradient sums
 * only over quantized elements, scaled by {@code gradScale}.
 */
public final class ActQuantizer {
  private final String site;
  private final QScheme scheme;
  private final float zeroPoint;
  private final Var scale;
  private final boolean sanitizeScale;

  /**
   * @param site the activation site's name
   * @param init the calibrated parameters (per tensor)
   * @param sanitizeScale s ← max(|s|, FLT_EPSILON), written back before each use (QDrop does
   *     this; qlimit does it for BRECQ's step learning too, where the reference would otherwise
   *     run on a non-positive step)
   */
  public ActQuantizer(String site, QParams init, boolean sanitizeScale) {
    this(site, init, sanitizeScale, true);
  }

  private ActQuantizer(String site, QParams init, boolean sanitizeScale, boolean learnable) {
    Check.arg(init.channels() == 1, "%s: activation quantizers are per tensor", site);
    this.site = site;
    this.scheme = init.scheme();
    this.zeroPoint = init.zeroPoint(0);
    Tensor step = Tensor.of(new float[] {init.scale(0)}, 1);
    this.scale = learnable ? Var.param(site + ".act_scale", step) : Var.constant(step);
    this.sanitizeScale = sanitizeScale;
  }

  /**
   * A quantizer whose step never changes: its step is a constant, so the backward pass computes
   * only the straight-through gradient to x and no LSQ terms. Same forward values as a learnable
   * quantizer with the same parameters.
   */
  public static ActQuantizer fixed(String site, QParams params) {
    return new ActQuantizer(site, params, false, false);
  }

  public String site() {
    return site;
  }

  public QScheme scheme() {
    return scheme;
  }

  /** The learnable step (shape [1]). */
  public Var scale() {
    return scale;
  }

  /** The current parameters. */
  public QParams params() {
    float[] sv = scale.value().data();
    float s = sv[0];
    if (sanitizeScale) {
      // QDrop writes the sanitised step back into the parameter before each forward pass.
      s = FakeQuant.sanitizeLearnedScale(s);
      sv[0] = s;
    }
    if (!(Float.isFinite(s) && s > 0)) {
      throw new IllegalStateException(site + ": learned activation step became " + s);
    }
    return QParams.perTensor(s, zeroPoint, scheme);
  }

  /**
   * Fake-quantizes x (optionally dropping per element).
   *
   * @param drop null for plain quantization, else the mask parameters for this site and step
   * @param gradScale LSQ gradient scale g (1 for BRECQ, {@link FakeQuant#lsqGradScale} for QDrop);
   *     a negative value means "QDrop's default for this tensor"
   */
  public Var apply(Graph g, Var x, Dropping.Site drop, float gradScale) {
    QParams p = params();
    float[] xd = x.value().contiguous().data();
    int n = xd.length;
    Tensor y = Tensor.zeros(x.shape());
    float[] yd = y.data();
    float s = p.scale(0);
    float z = p.zeroPoint(0);
    int qmin = scheme.qmin();
    int qmax = scheme.qmax();
    Kernels k = g.kernels();
    // y = fakeQuant(x); with dropping, the mask keep (counter = flat index) selects fakeQuant(x)
    // where true and x where false (QDropMask's definition)
    boolean[] keep = drop == null ? null : new boolean[n];
    k.fakeQuantDrop(yd, keep, xd, n, s, z, qmin, qmax,
        drop == null ? 0L : QDropMask.prefix(drop.seed(), drop.site(), drop.step()),
        drop == null ? 1f : drop.prob());
    float gs = gradScale >= 0 ? gradScale : FakeQuant.lsqGradScale(n, scheme.qmax());
    return Functions.custom(g, "actQuant", y, new Var[] {x, scale}, dy -> {
      float[] dx = x.requiresGrad() ? x.grad().data() : null;
      float[] ds = scale.requiresGrad() ? scale.grad().data() : null;
      // the mix sends dy of dropped elements straight to x and that of kept ones through the
      // quantizer: STE to x, LSQ terms summed in index order into the step's gradient
      float dScale = k.fakeQuantDropBackward(dx, ds == null ? null : terms(n), dy.data(), keep,
          xd, n, s, z, qmin, qmax, gs);
      if (ds != null) {
        ds[0] += dScale;
      }
    });
  }

  /** Scratch for the LSQ terms, reused across calls (only used inside one backward call). */
  private double[] termsScratch = new double[0];

  private double[] terms(int n) {
    if (termsScratch.length < n) {
      termsScratch = new double[n];
    }
    return termsScratch;
  }

  /** Overwrites the step (Modified), e.g. when loading a checkpoint. */
  public void setScale(float s) {
    scale.value().data()[0] = s;
  }
}
