package org.qlimit.quant;

import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
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
    Check.arg(init.channels() == 1, "%s: activation quantizers are per tensor", site);
    this.site = site;
    this.scheme = init.scheme();
    this.zeroPoint = init.zeroPoint(0);
    this.scale = Var.param(site + ".act_scale", Tensor.of(new float[] {init.scale(0)}, 1));
    this.sanitizeScale = sanitizeScale;
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
    Check.state(Float.isFinite(s) && s > 0, "%s: learned activation step became %s", site, s);
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
    FakeQuant.fakeQuant(yd, xd, p, n);
    byte[] keep = null;
    if (drop != null) {
      keep = new byte[n];
      QDropMask.mask(keep, 0, n, drop.seed(), drop.site(), drop.step(), drop.prob());
      for (int i = 0; i < n; i++) {
        if (keep[i] == 0) {
          yd[i] = xd[i];
        }
      }
    }
    float gs = gradScale >= 0 ? gradScale : FakeQuant.lsqGradScale(n, scheme.qmax());
    byte[] kept = keep;
    return Functions.custom(g, "actQuant", y, new Var[] {x, scale}, dy -> {
      float[] dyd = dy.data();
      float[] dyq = dyd;
      if (kept != null) {
        // Dropped elements pass their gradient straight to x and contribute nothing to s.
        dyq = new float[n];
        float[] dxDropped = x.requiresGrad() ? x.grad().data() : null;
        for (int i = 0; i < n; i++) {
          if (kept[i] != 0) {
            dyq[i] = dyd[i];
          } else if (dxDropped != null) {
            dxDropped[i] += dyd[i];
          }
        }
      }
      float[] dx = x.requiresGrad() ? x.grad().data() : null;
      float[] ds = scale.requiresGrad() ? scale.grad().data() : null;
      FakeQuant.backward(dx, ds, dyq, xd, p, n, gs);
    });
  }

  /** Overwrites the step (Modified), e.g. when loading a checkpoint. */
  public void setScale(float s) {
    scale.value().data()[0] = s;
  }
}
