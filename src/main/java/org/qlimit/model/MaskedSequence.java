package org.qlimit.model;

import java.util.Arrays;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;

/**
 * The value passed between the units of a BERT model: hidden states and their attention mask in
 * one tensor, so that a unit's input (as cached by reconstruction) carries its mask.
 *
 * <p>Layout: (N, L, H + 1); [n, l, 0..H-1] are the hidden states, zero at padded positions, and
 * [n, l, H] is the mask, 1 for a real token and 0 for padding. Padded positions are zeroed so that
 * they add nothing to a reconstruction loss (BERT computes them, but nothing reads them: they are
 * masked as attention keys and the classifier reads position 0).
 */
public final class MaskedSequence {
  private MaskedSequence() {}

  /** Hidden states (N, L, H) and the mask (N·L, 1 = token, 0 = padding) of a packed value. */
  public record Unpacked(Var hidden, int[] mask) {}

  /**
   * y (N, L, H+1) = [hidden·mask, mask]. hidden: (N, L, H); mask: N·L values, 0 or 1. Backward:
   * dhidden += dy[..., 0..H-1]·mask.
   */
  public static Var pack(Graph g, Var hidden, int[] mask) {
    int[] s = hidden.shape();
    Check.arg(s.length == 3 && mask.length == s[0] * s[1], "pack: hidden %s and %d mask values",
        Arrays.toString(s), mask.length);
    int rows = s[0] * s[1];
    int h = s[2];
    float[] x = hidden.value().contiguous().data();
    Tensor y = Tensor.zeros(s[0], s[1], h + 1);
    float[] yd = y.data();
    for (int r = 0; r < rows; r++) {
      if (mask[r] != 0) {
        System.arraycopy(x, r * h, yd, r * (h + 1), h);
        yd[r * (h + 1) + h] = 1f;
      }
    }
    return Functions.custom(g, "packMasked", y, new Var[] {hidden}, dy -> {
      float[] d = dy.data();
      float[] dx = hidden.grad().data();
      for (int r = 0; r < rows; r++) {
        if (mask[r] != 0) {
          for (int j = 0; j < h; j++) {
            dx[r * h + j] += d[r * (h + 1) + j];
          }
        }
      }
    });
  }

  /**
   * Splits a packed value (N, L, H+1) into hidden (N, L, H) and the mask. Backward: dx[..., 0..H-1]
   * += dhidden (the mask carries no gradient).
   *
   * @throws IllegalArgumentException when the mask column holds anything but 0 and 1, or a
   *     sequence has no unmasked position
   */
  public static Unpacked unpack(Graph g, Var x) {
    int[] s = x.shape();
    Check.arg(s.length == 3 && s[2] >= 2, "unpack: expected (N, L, H+1), got %s",
        Arrays.toString(s));
    int n = s[0];
    int l = s[1];
    int h = s[2] - 1;
    float[] xd = x.value().contiguous().data();
    int[] mask = new int[n * l];
    Tensor y = Tensor.zeros(n, l, h);
    float[] yd = y.data();
    for (int r = 0; r < n * l; r++) {
      float m = xd[r * (h + 1) + h];
      Check.arg(m == 0f || m == 1f, "unpack: mask value %s at sequence %d, position %d", m, r / l,
          r % l);
      mask[r] = (int) m;
      System.arraycopy(xd, r * (h + 1), yd, r * h, h);
    }
    for (int b = 0; b < n; b++) {
      boolean any = false;
      for (int t = 0; t < l; t++) {
        any |= mask[b * l + t] != 0;
      }
      Check.arg(any, "unpack: sequence %d has no unmasked position", b);
    }
    Var hidden = Functions.custom(g, "unpackMasked", y, new Var[] {x}, dy -> {
      float[] d = dy.data();
      float[] dx = x.grad().data();
      for (int r = 0; r < n * l; r++) {
        for (int j = 0; j < h; j++) {
          dx[r * (h + 1) + j] += d[r * h + j];
        }
      }
    });
    return new Unpacked(hidden, mask);
  }
}
