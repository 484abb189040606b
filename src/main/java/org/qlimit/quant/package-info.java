/**
 * Quantization math of qlimit (ALGORITHMS.md §1–§4): pure, stateless functions over flat
 * {@code float[]} arrays, forward formulas together with their analytic gradients, for an
 * autograd engine to wire up.
 *
 * <ul>
 *   <li>{@link org.qlimit.quant.QScheme}, {@link org.qlimit.quant.QParams}: integer grids and
 *       per-tensor / per-channel (axis 0) scale and zero point; {@code QParams.fromRange} (§1).
 *   <li>{@link org.qlimit.quant.FakeQuant}: q = clamp(⌊x/s⌉ + z), x̂ = (q − z)s; STE and LSQ
 *       backward (§1, §4.1, §4.2).
 *   <li>{@link org.qlimit.quant.Observers}, {@link org.qlimit.quant.QRange}: min-max, BRECQ's
 *       shrink-Lp and QDrop's grid-Lp range searches (§2).
 *   <li>{@link org.qlimit.quant.AdaRound}: rectified sigmoid, soft/hard weights, rounding
 *       regulariser and β schedule (§3; the cosine LR of §4 is {@code optim.Schedules}).
 *   <li>{@link org.qlimit.quant.QDropMask}: counter-based element-wise dropping (§4.2, §7).
 * </ul>
 *
 * <p>Conventions: outputs first; outputs never alias inputs unless a method says so; backward
 * methods accumulate; every reduction runs in increasing index order in double. Each method's
 * Javadoc names the reference file and lines (yhhhli/BRECQ, wimh966/QDrop branch qdrop) that
 * fixed a detail the specification leaves open.
 */
package org.qlimit.quant;
