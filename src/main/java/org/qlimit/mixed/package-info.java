/**
 * Mixed precision (ALGORITHMS.md §8): per-layer weight bit widths chosen under a model-size or
 * BitOPs budget.
 *
 * <ul>
 *   <li>{@link org.qlimit.mixed.CostModel}: parameters and MACs per layer, size and BitOPs of an
 *       assignment (first/last layers pinned at 8 bits, §5; BERT's pooler and classifier, §11,
 *       with linear layers counted per position of a sentence);</li>
 *   <li>{@link org.qlimit.mixed.Sensitivity}: Fisher-weighted block reconstruction error per
 *       (layer, bits) and per intra-block pair, measured on the calibration set;</li>
 *   <li>{@link org.qlimit.mixed.SearchProblem}, {@link org.qlimit.mixed.GeneticSearch} (seeded GA
 *       with constraint repair) and {@link org.qlimit.mixed.DynamicProgram} (exact for the
 *       diagonal-only objective, the GA's check);</li>
 *   <li>{@link org.qlimit.mixed.BitWidthSearch}: the searched assignment, or the best uniform one
 *       when the search does not gain enough over it (the keep-uniform rule).</li>
 * </ul>
 *
 * <p>Only {@code run} and {@code cli} use this package; it uses {@code recon}, {@code quant},
 * {@code nn}, {@code autograd}, {@code tensor} and {@code util}.
 */
package org.qlimit.mixed;
