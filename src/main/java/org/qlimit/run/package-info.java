/**
 * The library's entry point: whole runs, as the commands perform them, for a Java caller.
 *
 * <ul>
 *   <li>{@link org.qlimit.run.QuantizationRun}: one model, one method and bit-width setting,
 *       from files to the quantized state, the per-unit records, {@code quantized_sha256},
 *       result.json and the provenance manifest (README "Using qlimit from Java");</li>
 *   <li>{@link org.qlimit.run.MixedPrecision}: the model, cost model, budgets and cached
 *       sensitivities a mixed-precision search needs (ALGORITHMS.md §8);</li>
 *   <li>{@link org.qlimit.run.RunCheckpoint}: the per-unit checkpoint a run resumes from;</li>
 *   <li>{@link org.qlimit.run.RunListener}: the progress events a caller may show.</li>
 * </ul>
 *
 * <p>Only {@code cli} uses this package; it uses {@code recon}, {@code mixed}, {@code eval},
 * {@code model}, {@code quant}, {@code data}, {@code io}, {@code nn}, {@code tensor},
 * {@code kernel} and {@code util}, and never prints (the listener carries what a user sees).
 */
package org.qlimit.run;
