package org.qlimit.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.io.TensorEntry;
import org.qlimit.testing.QuietTest;

/**
 * {@link TraceComparison}: counts and maximum differences in steps per tensor, tolerances, the
 * first diverging tensor in network order, integer dtypes mixed freely, and malformed pairs.
 */
class TraceComparisonTest extends QuietTest {
  @TempDir Path dir;

  private SafeTensorsFile file(String name, List<TensorEntry> entries, Map<String, String> meta)
      throws Exception {
    Path p = dir.resolve(name);
    SafeTensors.write(p, entries, meta);
    return SafeTensors.read(p);
  }

  private static TensorEntry u8(String n, int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      b[i] = (byte) v[i];
    }
    return TensorEntry.u8(n, new long[] {v.length}, b);
  }

  @Test
  void stepsToleranceAndFirstDivergingTensorInNetworkOrder() throws Exception {
    // a: qlimit's order b, a, logits (metadata); the dump is in another order, U8, no metadata
    SafeTensorsFile a = file("a.safetensors", List.of(
        TensorEntry.i32("site.b", new long[] {4}, new int[] {0, 1, 2, 3}),
        TensorEntry.i32("site.a", new long[] {4}, new int[] {3, 3, 3, 3}),
        TensorEntry.f32("logits", new long[] {2}, new float[] {1f, -2f})),
        Map.of(Traces.ORDER, "site.b,site.a,logits"));
    SafeTensorsFile b = file("b.safetensors", List.of(
        TensorEntry.f32("logits", new long[] {2}, new float[] {1.25f, -2f}),
        u8("site.a", 0, 3, 3, 3),
        u8("site.b", 1, 1, 2, 3)), Map.of());
    TraceComparison.Result r = TraceComparison.compare(b, a, 0, 0);
    assertThat(r.tensors()).extracting(TraceComparison.TensorDiff::name)
        .containsExactly("site.b", "site.a", "logits");
    TraceComparison.TensorDiff sb = r.tensors().get(0);
    assertThat(sb.differing()).isEqualTo(1);
    assertThat(sb.maxDiff()).isEqualTo(1.0);
    assertThat(r.tensors().get(1).maxDiff()).isEqualTo(3.0);
    assertThat(r.tensors().get(2).maxDiff()).isEqualTo(0.25);
    assertThat(r.firstDiverging()).isEqualTo("site.b");

    r = TraceComparison.compare(a, b, 1, 0);
    assertThat(r.firstDiverging()).isEqualTo("site.a");
    assertThat(r.tensors().get(0).beyond()).isZero();
    r = TraceComparison.compare(a, b, 3, 0.25);
    assertThat(r.equalWithinTolerance()).isTrue();
    assertThat(r.tensors().get(1).differing()).isEqualTo(1);
  }

  @Test
  void aNanOnOneSideIsReportedAsNanAndNeverWithinTolerance() throws Exception {
    SafeTensorsFile a = file("a.safetensors", List.of(
        TensorEntry.f32("logits", new long[] {3}, new float[] {1f, 2f, Float.NaN})), Map.of());
    SafeTensorsFile b = file("b.safetensors", List.of(
        TensorEntry.f32("logits", new long[] {3}, new float[] {1f, 2.5f, 3f})), Map.of());
    TraceComparison.Result r = TraceComparison.compare(a, b, 0, 1e9);
    TraceComparison.TensorDiff d = r.tensors().get(0);
    assertThat(d.differing()).isEqualTo(2);
    assertThat(d.beyond()).isEqualTo(1);
    assertThat(d.maxDiff()).isNaN();
    assertThat(r.equalWithinTolerance()).isFalse();
    assertThat(r.firstDiverging()).isEqualTo("logits");
    // NaN on both sides, bit for bit, is equal
    SafeTensorsFile c = file("c.safetensors", List.of(
        TensorEntry.f32("logits", new long[] {3}, new float[] {1f, 2f, Float.NaN})), Map.of());
    assertThat(TraceComparison.compare(a, c, 0, 0).equalWithinTolerance()).isTrue();
  }

  @Test
  void malformedPairsNameFileAndTensor() throws Exception {
    SafeTensorsFile a = file("a.safetensors", List.of(
        TensorEntry.i32("s", new long[] {2}, new int[] {0, 1}),
        TensorEntry.f32("logits", new long[] {1}, new float[] {0f})), Map.of());
    SafeTensorsFile extra = file("extra.safetensors", List.of(
        TensorEntry.i32("s", new long[] {2}, new int[] {0, 1}),
        TensorEntry.i32("t", new long[] {1}, new int[] {0}),
        TensorEntry.f32("logits", new long[] {1}, new float[] {0f})), Map.of());
    assertThatThrownBy(() -> TraceComparison.compare(a, extra, 0, 0))
        .isInstanceOf(TraceComparison.MalformedTrace.class)
        .hasMessageContaining("a.safetensors: tensor t is missing");
    // with commonOnly the common tensors are compared and the extra one is listed
    TraceComparison.Result common = TraceComparison.compare(a, extra, 0, 0, true);
    assertThat(common.tensors()).extracting(TraceComparison.TensorDiff::name)
        .containsExactly("s", "logits");
    assertThat(common.onlyInA()).isEmpty();
    assertThat(common.onlyInB()).containsExactly("t");
    assertThat(TraceComparison.compare(extra, a, 0, 0, true).onlyInA()).containsExactly("t");
    SafeTensorsFile disjoint = file("d.safetensors", List.of(
        TensorEntry.i32("u", new long[] {1}, new int[] {0})), Map.of());
    assertThatThrownBy(() -> TraceComparison.compare(a, disjoint, 0, 0, true))
        .hasMessageContaining("hold no tensor of the same name");
    SafeTensorsFile floats = file("f.safetensors", List.of(
        TensorEntry.f32("s", new long[] {2}, new float[] {0f, 1f}),
        TensorEntry.f32("logits", new long[] {1}, new float[] {0f})), Map.of());
    assertThatThrownBy(() -> TraceComparison.compare(a, floats, 0, 0))
        .hasMessageContaining("tensor s is I32").hasMessageContaining("integer against float");
    SafeTensorsFile badOrder = file("o.safetensors", List.of(
        TensorEntry.i32("s", new long[] {2}, new int[] {0, 1}),
        TensorEntry.f32("logits", new long[] {1}, new float[] {0f})),
        Map.of(Traces.ORDER, "s,x,logits"));
    assertThatThrownBy(() -> TraceComparison.compare(badOrder, a, 0, 0))
        .hasMessageContaining("metadata order names tensor x");
  }
}
