/**
 * The integer reference path (docs/INTEGER.md): a quantized model run the way an integer
 * accelerator runs it (int32 accumulation, int32 bias, fixed-point requantization, ReLU and
 * residual additions in the integer domain), the fake-quantized path's levels at the same
 * activation sites, and the statistics of where the two depart. Sits above {@code quant},
 * {@code model} and {@code kernel}; only {@code cli} uses it.
 */
package org.qlimit.integer;
