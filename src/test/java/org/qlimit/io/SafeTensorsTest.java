package org.qlimit.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Round trips, the committed reference models, and strict rejection of malformed files. */
class SafeTensorsTest {
  @TempDir Path dir;

  private static final Path MODEL = Path.of("datasets/models/resnet20_fmnist.safetensors");
  private static final Path GOLDEN = Path.of("datasets/models/resnet20_fmnist_golden.safetensors");

  private static List<TensorEntry> sample() {
    return List.of(
        TensorEntry.f32("w", new long[] {2, 3}, new float[] {1f, -2.5f, 3e-40f, Float.NaN,
            Float.NEGATIVE_INFINITY, -0f}),
        TensorEntry.f16("h", new long[] {3}, new float[] {1f, -2.5f, 65504f}),
        TensorEntry.bf16("b", new long[] {2}, new float[] {1f, -2.5f}),
        TensorEntry.i64("labels", new long[] {3}, new long[] {0, Long.MIN_VALUE, Long.MAX_VALUE}),
        TensorEntry.i32("idx", new long[] {2, 1}, new int[] {-7, Integer.MAX_VALUE}),
        TensorEntry.u8("px", new long[] {4}, new byte[] {0, 1, (byte) 200, (byte) 255}),
        TensorEntry.f32("scalar", new long[] {}, new float[] {42f}),
        TensorEntry.f32("empty", new long[] {0, 5}, new float[0]));
  }

  private Path writeSample() throws IOException {
    Path f = dir.resolve("sample.safetensors");
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("z", "last key first");
    meta.put("a", "ünïcode");
    SafeTensors.write(f, sample(), meta);
    return f;
  }

  @Test
  void roundTripAllDtypesKeepsOrderBytesAndMetadata() throws IOException {
    Path f = writeSample();
    SafeTensorsFile r = SafeTensors.read(f);
    assertThat(r.names()).containsExactly("w", "h", "b", "labels", "idx", "px", "scalar", "empty");
    assertThat(r.metadata()).containsExactly(Map.entry("z", "last key first"),
        Map.entry("a", "ünïcode"));
    List<TensorEntry> in = sample();
    for (int i = 0; i < in.size(); i++) {
      assertThat(r.entries().get(i).sameContent(in.get(i))).as(in.get(i).name()).isTrue();
    }
    assertThat(r.get("w").asFloats()).usingElementComparator(SafeTensorsTest::bitwise)
        .containsExactly(1f, -2.5f, 3e-40f, Float.NaN, Float.NEGATIVE_INFINITY, -0f);
    assertThat(r.get("h").asFloats()).containsExactly(1f, -2.5f, 65504f);
    assertThat(r.get("b").asFloats()).containsExactly(1f, -2.5f);
    assertThat(r.get("labels").asLongs()).containsExactly(0, Long.MIN_VALUE, Long.MAX_VALUE);
    assertThat(r.get("idx").asInts()).containsExactly(-7, Integer.MAX_VALUE);
    assertThat(r.get("px").asInts()).containsExactly(0, 1, 200, 255);
    assertThat(r.get("scalar").asFloats()).containsExactly(42f);
    assertThat(r.get("empty").size()).isZero();
    // header length is a multiple of 8 and the data section is contiguous
    byte[] all = Files.readAllBytes(f);
    long n = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertThat(n % 8).isZero();
    long data = in.stream().mapToLong(e -> e.data().length).sum();
    assertThat(all.length).isEqualTo(8 + n + data);
  }

  private static int bitwise(Float a, Float b) {
    return Integer.compare(Float.floatToRawIntBits(a), Float.floatToRawIntBits(b));
  }

  @Test
  void wrongViewAndLookupsGiveClearErrors() throws IOException {
    SafeTensorsFile r = SafeTensors.read(writeSample());
    assertThatThrownBy(() -> r.get("labels").asFloats()).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("labels").hasMessageContaining("I64");
    assertThatThrownBy(() -> r.get("nope")).hasMessageContaining("sample.safetensors")
        .hasMessageContaining("nope");
    assertThatThrownBy(() -> r.require("w", 3, 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sample.safetensors").hasMessageContaining("'w'")
        .hasMessageContaining("[2, 3]").hasMessageContaining("[3, 2]");
    assertThat(r.require("w", 2, 3).name()).isEqualTo("w");
    assertThatThrownBy(() -> SafeTensors.write(dir.resolve("d"),
        List.of(sample().get(0), sample().get(0)), Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("duplicate");
  }

  @Test
  void halfFloatConversionsAreExact() {
    // F16 bit patterns -> float
    assertThat(HalfFloats.f16ToFloat(0x3c00)).isEqualTo(1f);
    assertThat(HalfFloats.f16ToFloat(0xc100)).isEqualTo(-2.5f);
    assertThat(HalfFloats.f16ToFloat(0x7bff)).isEqualTo(65504f);
    assertThat(HalfFloats.f16ToFloat(0x0001)).isEqualTo(0x1p-24f); // smallest subnormal
    assertThat(HalfFloats.f16ToFloat(0x03ff)).isEqualTo(1023 * 0x1p-24f); // largest subnormal
    assertThat(HalfFloats.f16ToFloat(0x0400)).isEqualTo(0x1p-14f); // smallest normal
    assertThat(Float.floatToRawIntBits(HalfFloats.f16ToFloat(0x8000))).isEqualTo(0x80000000);
    assertThat(HalfFloats.f16ToFloat(0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    assertThat(HalfFloats.f16ToFloat(0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
    assertThat(HalfFloats.f16ToFloat(0x7e00)).isNaN();
    // every finite F16 survives float -> F16 unchanged
    for (int h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
        continue; // NaN
      }
      assertThat(HalfFloats.floatToF16(HalfFloats.f16ToFloat(h))).as("0x%04x", h).isEqualTo(h);
    }
    // rounding: ties to even, overflow, underflow
    assertThat(HalfFloats.floatToF16(1f + 0x1p-11f)).isEqualTo(0x3c00); // tie -> even
    assertThat(HalfFloats.floatToF16(1f + 3 * 0x1p-11f)).isEqualTo(0x3c02); // tie -> even (up)
    assertThat(HalfFloats.floatToF16(65519f)).isEqualTo(0x7bff);
    assertThat(HalfFloats.floatToF16(65520f)).isEqualTo(0x7c00);
    assertThat(HalfFloats.floatToF16(0x1p-25f)).isEqualTo(0x0000); // tie -> even zero
    assertThat(HalfFloats.floatToF16(0x1.8p-25f)).isEqualTo(0x0001);
    assertThat(HalfFloats.floatToF16(Float.MIN_VALUE)).isEqualTo(0);
    // BF16
    assertThat(HalfFloats.bf16ToFloat(0x3f80)).isEqualTo(1f);
    assertThat(HalfFloats.bf16ToFloat(0xc020)).isEqualTo(-2.5f);
    assertThat(HalfFloats.bf16ToFloat(0x0001)).isEqualTo(Float.intBitsToFloat(0x00010000));
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3f808000))).isEqualTo(0x3f80);
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3f818000))).isEqualTo(0x3f82);
    assertThat(HalfFloats.floatToBf16(Float.intBitsToFloat(0x3f808001))).isEqualTo(0x3f81);
    assertThat(HalfFloats.bf16ToFloat(HalfFloats.floatToBf16(Float.NaN))).isNaN();
  }

  @Test
  void handBuiltF16AndBf16FileDecodesExactly() throws IOException {
    String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
    ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    data.putShort((short) 0x3c00).putShort((short) 0xc100).putShort((short) 0x7bff)
        .putShort((short) 0x0001).putShort((short) 0x3f80).putShort((short) 0xc020);
    Path f = raw("half.safetensors", header, data.array());
    SafeTensorsFile r = SafeTensors.read(f);
    assertThat(r.get("h").asFloats()).containsExactly(1f, -2.5f, 65504f, 0x1p-24f);
    assertThat(r.get("b").asFloats()).containsExactly(1f, -2.5f);
  }

  @Test
  void readsCommittedReferenceModel() throws IOException {
    SafeTensorsFile m = SafeTensors.read(MODEL);
    assertThat(m.size()).isEqualTo(107);
    assertThat(m.entries()).allMatch(e -> e.dtype() == DType.F32);
    assertThat(m.require("conv1.weight", 16, 1, 3, 3).asFloats()).hasSize(144);
    assertThat(m.require("fc.weight", 10, 64).size()).isEqualTo(640);
    assertThat(m.require("layer2.0.downsample.0.weight", 32, 16, 1, 1)).isNotNull();
    assertThat(m.names()).isSorted(); // stored alphabetically; names() keeps header order
    assertThat(m.metadata()).containsEntry("fp32_test_top1", "94.08");
    SafeTensorsFile g = SafeTensors.read(GOLDEN);
    float[] logits = g.require("logits", 256, 10).asFloats();
    assertThat(logits).hasSize(2560);
    for (float v : logits) {
      assertThat(Float.isFinite(v)).isTrue();
    }
    long[] labels = g.require("labels", 256).asLongs();
    assertThat(g.get("labels").dtype()).isEqualTo(DType.I64);
    assertThat(Arrays.stream(labels).allMatch(v -> v >= 0 && v <= 9)).isTrue();
    // rewriting gives a file that reads back identically
    Path copy = dir.resolve("copy.safetensors");
    SafeTensors.write(copy, m.entries(), m.metadata());
    SafeTensorsFile m2 = SafeTensors.read(copy);
    assertThat(m2.names()).isEqualTo(m.names());
    for (String name : m.names()) {
      assertThat(m2.get(name).sameContent(m.get(name))).isTrue();
    }
  }

  // ------------------------------------------------------------------ malformed input

  private Path raw(String name, String header, byte[] data) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return rawBytes(name, h.length, h, data);
  }

  private Path rawBytes(String name, long declaredLen, byte[] header, byte[] data)
      throws IOException {
    ByteBuffer bb = ByteBuffer.allocate(8 + header.length + data.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    bb.putLong(declaredLen).put(header).put(data);
    Path f = dir.resolve(name);
    Files.write(f, bb.array());
    return f;
  }

  private void assertMalformed(Path f, String... fragments) {
    var t = assertThatThrownBy(() -> SafeTensors.read(f))
        .isInstanceOf(MalformedFileException.class)
        .hasMessageContaining(f.toString());
    for (String s : fragments) {
      t.hasMessageContaining(s);
    }
  }

  private static String entry(String name, String dtype, String shape, long b, long e) {
    return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape
        + ",\"data_offsets\":[" + b + "," + e + "]}";
  }

  @Test
  void rejectsStructuralProblems() throws IOException {
    byte[] d8 = new byte[8];
    Files.write(dir.resolve("short"), new byte[5]);
    assertMalformed(dir.resolve("short"), "shorter than");
    assertMalformed(rawBytes("huge", 1L << 62, "{}".getBytes(StandardCharsets.UTF_8), d8),
        "header length");
    assertMalformed(rawBytes("neg", -1L, "{}".getBytes(StandardCharsets.UTF_8), d8),
        "header length");
    assertMalformed(rawBytes("long", 100, "{}".getBytes(StandardCharsets.UTF_8), d8),
        "header length");
    assertMalformed(rawBytes("utf", 4, new byte[] {'{', (byte) 0xff, (byte) 0xfe, '}'},
        new byte[0]), "UTF-8");
    assertMalformed(raw("json", "{\"a\":", new byte[0]), "JSON");
    assertMalformed(raw("arr", "[1,2]", new byte[0]), "JSON object");
    assertMalformed(raw("trail", "{} x", new byte[0]), "JSON");
    assertMalformed(raw("dup", "{" + entry("a", "F32", "[1]", 0, 4) + ","
        + entry("a", "F32", "[1]", 4, 8) + "}", d8), "a");
    assertMalformed(raw("nodtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}",
        new byte[4]), "'a'", "dtype");
    assertMalformed(raw("noshape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
        new byte[4]), "'a'", "shape");
    assertMalformed(raw("nooffs", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]),
        "'a'", "data_offsets");
    assertMalformed(raw("unk", "{" + entry("a", "F64", "[1]", 0, 8) + "}", d8),
        "'a'", "F64");
    assertMalformed(raw("negdim", "{" + entry("a", "F32", "[-1]", 0, 4) + "}", new byte[4]),
        "'a'", "shape");
    assertMalformed(raw("fracdim", "{" + entry("a", "F32", "[1.5]", 0, 4) + "}", new byte[4]),
        "'a'", "shape");
    assertMalformed(raw("bigdim", "{" + entry("a", "F32", "[4611686018427387904,4]", 0, 4)
        + "}", new byte[4]), "'a'");
    assertMalformed(raw("shape", "{" + entry("a", "F32", "[3]", 0, 8) + "}", d8),
        "'a'", "[3]");
    assertMalformed(raw("oob", "{" + entry("a", "F32", "[4]", 0, 16) + "}", d8), "'a'", "past");
    assertMalformed(raw("rev", "{" + entry("a", "F32", "[1]", 8, 4) + "}", d8), "'a'");
    assertMalformed(raw("overlap", "{" + entry("a", "F32", "[2]", 0, 8) + ","
        + entry("b", "F32", "[1]", 4, 8) + "}", new byte[12]), "overlap");
    assertMalformed(raw("gap", "{" + entry("a", "F32", "[1]", 4, 8) + "}", d8), "'a'", "gap");
    assertMalformed(raw("trailing", "{" + entry("a", "F32", "[1]", 0, 4) + "}", d8),
        "trailing");
    assertMalformed(raw("meta", "{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__");
    assertMalformed(raw("extra", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],"
        + "\"x\":1}}", new byte[4]), "'a'", "'x'");
    assertMalformed(raw("notobj", "{\"a\":3}", new byte[0]), "'a'");
    // sanity: the same builders make a valid file, including space padding
    assertThat(SafeTensors.read(raw("ok", "{" + entry("a", "F32", "[1]", 0, 4) + "}    ",
        new byte[4])).size()).isEqualTo(1);
  }

  @Test
  void truncationsAtEveryEighthAreRejected() throws IOException {
    byte[] valid = Files.readAllBytes(writeSample());
    for (int k = 0; k < 8; k++) {
      int len = valid.length * k / 8;
      Path f = dir.resolve("trunc" + k);
      Files.write(f, Arrays.copyOf(valid, len));
      assertMalformed(f);
    }
    Path f = dir.resolve("trunc-1");
    Files.write(f, Arrays.copyOf(valid, valid.length - 1));
    assertMalformed(f);
  }

  @Test
  void fuzzedFilesEitherReadOrFailCleanly() throws IOException {
    byte[] valid = Files.readAllBytes(writeSample());
    SplittableRandom rng = new SplittableRandom(20261127L);
    Path f = dir.resolve("fuzz.safetensors");
    int ok = 0;
    for (int trial = 0; trial < 500; trial++) {
      byte[] b = valid.clone();
      int mutations = 1 + rng.nextInt(4);
      for (int m = 0; m < mutations; m++) {
        int pos = rng.nextInt(b.length);
        switch (rng.nextInt(3)) {
          case 0 -> b[pos] = (byte) rng.nextInt(256);
          case 1 -> b[pos] ^= (byte) (1 << rng.nextInt(8));
          default -> b[pos] = (byte) "{}[],:\"0123456789 -".charAt(rng.nextInt(19));
        }
      }
      if (rng.nextInt(4) == 0) {
        b = Arrays.copyOf(b, rng.nextInt(b.length + 1));
      }
      Files.write(f, b);
      try {
        SafeTensors.read(f);
        ok++;
      } catch (MalformedFileException e) {
        assertThat(e.getMessage()).startsWith(f.toString());
      }
    }
    assertThat(ok).isLessThan(500);
  }
}
