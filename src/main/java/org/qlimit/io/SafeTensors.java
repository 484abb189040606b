package org.qlimit.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reader and writer of the safetensors format (https://github.com/huggingface/safetensors).
 *
 * <p>Layout: bytes 0..7 hold N, an unsigned 64-bit little-endian integer; bytes 8..8+N-1 hold a
 * UTF-8 JSON object, possibly padded at the end with spaces; the rest of the file is the data
 * section. Each JSON entry maps a tensor name to {@code {"dtype", "shape", "data_offsets":
 * [begin, end]}} with offsets relative to the start of the data section; the optional
 * {@code "__metadata__"} entry maps strings to strings. Data is row-major and little-endian.
 *
 * <p>Reading is strict. Any of the following throws {@link MalformedFileException} naming the
 * file (and the tensor where there is one): a file shorter than 8 bytes; N larger than the rest of
 * the file or than {@link #MAX_HEADER_BYTES} (checked before anything is allocated); a header that
 * is not UTF-8, not a JSON object, has trailing non-space content or duplicate keys; an entry
 * that is not an object, lacks or mistypes dtype/shape/data_offsets, or has other keys; a dtype
 * not in {@link DType}; a shape dim that is negative or not an integer; begin > end; a byte
 * count (end - begin) different from product(shape) x dtype size; a tensor above 2^31-1 bytes;
 * offsets that overlap, leave gaps, or do not cover the data section exactly (no trailing bytes);
 * a non-string metadata value. No other exception type escapes for malformed content.
 *
 * <p>Writing: entries in the given order with contiguous offsets (first at 0, no gaps),
 * {@code __metadata__} first when the map is non-empty, and the header padded with spaces so
 * that 8 + N is a multiple of 8, as the reference implementation does.
 */
public final class SafeTensors {
  /** Largest header accepted (100 MB), as in the reference implementation. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private SafeTensors() {}

  /** Reads and validates a whole safetensors file; tensors keep header order. */
  public static SafeTensorsFile read(Path file) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      if (fileSize < 8) {
        throw new MalformedFileException(file,
            "file has " + fileSize + " bytes, shorter than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0, file);
      long n = lenBuf.getLong(0); // unsigned: negative means >= 2^63
      if (n < 0 || n > MAX_HEADER_BYTES) {
        throw new MalformedFileException(file, "header length " + Long.toUnsignedString(n)
            + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes (not a safetensors file?)");
      }
      if (n > fileSize - 8) {
        throw new MalformedFileException(file, "header length " + n
            + " exceeds the " + (fileSize - 8) + " bytes after the length field (not a "
            + "safetensors file, or truncated?)");
      }
      ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
      readFully(ch, headerBuf, 8, file);
      long dataStart = 8 + n;
      long dataLen = fileSize - dataStart;

      JsonNode root = parseHeader(file, headerBuf.array());
      LinkedHashMap<String, String> metadata = new LinkedHashMap<>();
      List<Pending> pending = new ArrayList<>();
      for (Map.Entry<String, JsonNode> f : root.properties()) {
        if (f.getKey().equals(TensorEntry.METADATA_KEY)) {
          readMetadata(file, f.getValue(), metadata);
        } else {
          pending.add(parseEntry(file, f.getKey(), f.getValue(), dataLen));
        }
      }
      checkCoverage(file, pending, dataLen);

      // read the data in file order, then keep header order for the result
      List<Pending> byOffset = new ArrayList<>(pending);
      byOffset.sort(Comparator.comparingLong(Pending::begin));
      Map<String, byte[]> bytes = new LinkedHashMap<>();
      for (Pending p : byOffset) {
        ByteBuffer b = ByteBuffer.allocate((int) (p.end - p.begin));
        readFully(ch, b, dataStart + p.begin, file);
        bytes.put(p.name, b.array());
      }
      LinkedHashMap<String, TensorEntry> tensors = new LinkedHashMap<>();
      for (Pending p : pending) {
        tensors.put(p.name, new TensorEntry(p.name, p.dtype, p.shape, bytes.get(p.name)));
      }
      return new SafeTensorsFile(file, tensors, metadata);
    }
  }

  /**
   * Writes {@code entries} in the given order, with {@code metadata} (may be empty or null) as
   * {@code __metadata__}. Throws IllegalArgumentException for duplicate names.
   */
  public static void write(Path file, List<TensorEntry> entries, Map<String, String> metadata)
      throws IOException {
    ObjectNode root = JsonNodeFactory.instance.objectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = root.putObject(TensorEntry.METADATA_KEY);
      for (Map.Entry<String, String> m : metadata.entrySet()) {
        if (m.getKey() == null || m.getValue() == null) {
          throw new IllegalArgumentException("metadata keys and values must be non-null");
        }
        meta.put(m.getKey(), m.getValue());
      }
    }
    Set<String> seen = new HashSet<>();
    long offset = 0;
    for (TensorEntry e : entries) {
      if (!seen.add(e.name())) {
        throw new IllegalArgumentException("duplicate tensor name '" + e.name() + "'");
      }
      ObjectNode o = root.putObject(e.name());
      o.put("dtype", e.dtype().name());
      ArrayNode shape = o.putArray("shape");
      for (long d : e.shape()) {
        shape.add(d);
      }
      ArrayNode offs = o.putArray("data_offsets");
      offs.add(offset);
      offset += e.data().length;
      offs.add(offset);
    }
    byte[] json = JSON.writeValueAsBytes(root);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      writeFully(ch, head);
      for (TensorEntry e : entries) {
        writeFully(ch, ByteBuffer.wrap(e.data()));
      }
    }
  }

  // ------------------------------------------------------------------ header parsing

  private record Pending(String name, DType dtype, long[] shape, long begin, long end) {}

  private static JsonNode parseHeader(Path file, byte[] header) throws MalformedFileException {
    String text;
    try {
      CharBuffer cb = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(header));
      text = cb.toString();
    } catch (CharacterCodingException e) {
      throw new MalformedFileException(file, "header is not valid UTF-8", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JacksonException e) {
      throw new MalformedFileException(file,
          "header is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new MalformedFileException(file, "header is not a JSON object");
    }
    return root;
  }

  private static void readMetadata(Path file, JsonNode node, Map<String, String> out)
      throws MalformedFileException {
    if (!node.isObject()) {
      throw new MalformedFileException(file, "__metadata__ is not a JSON object");
    }
    for (Map.Entry<String, JsonNode> m : node.properties()) {
      if (!m.getValue().isTextual()) {
        throw new MalformedFileException(file,
            "__metadata__ value of '" + m.getKey() + "' is not a string");
      }
      out.put(m.getKey(), m.getValue().textValue());
    }
  }

  private static Pending parseEntry(Path file, String name, JsonNode node, long dataLen)
      throws MalformedFileException {
    String where = "tensor '" + name + "': ";
    if (!node.isObject()) {
      throw new MalformedFileException(file, where + "entry is not a JSON object");
    }
    Iterator<String> keys = node.fieldNames();
    while (keys.hasNext()) {
      String k = keys.next();
      if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
        throw new MalformedFileException(file, where + "unexpected key '" + k + "'");
      }
    }
    JsonNode dt = node.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new MalformedFileException(file, where + "missing or non-string dtype");
    }
    DType dtype = DType.fromHeaderName(dt.textValue()).orElseThrow(() ->
        new MalformedFileException(file, where + "unknown or unsupported dtype '"
            + dt.textValue() + "' (supported: " + Arrays.toString(DType.values()) + ")"));
    long[] shape = longArray(file, where, "shape", node.get("shape"), -1);
    long[] offs = longArray(file, where, "data_offsets", node.get("data_offsets"), 2);
    long begin = offs[0];
    long end = offs[1];
    if (begin > end) {
      throw new MalformedFileException(file,
          where + "data_offsets [" + begin + ", " + end + "] has begin > end");
    }
    if (end > dataLen) {
      throw new MalformedFileException(file, where + "data_offsets [" + begin + ", " + end
          + "] past the end of the " + dataLen + "-byte data section");
    }
    long count;
    try {
      count = TensorEntry.elementCount(name, shape);
    } catch (IllegalArgumentException e) {
      throw new MalformedFileException(file, e.getMessage());
    }
    long bytes = end - begin;
    if (count > Long.MAX_VALUE / dtype.size() || count * dtype.size() != bytes) {
      throw new MalformedFileException(file, where + "shape " + Arrays.toString(shape) + " of "
          + dtype + " needs " + count + " x " + dtype.size() + " bytes, data_offsets ["
          + begin + ", " + end + "] hold " + bytes);
    }
    if (bytes > Integer.MAX_VALUE - 8) {
      throw new MalformedFileException(file, where + bytes + " bytes is too large for one array");
    }
    return new Pending(name, dtype, shape, begin, end);
  }

  /** A JSON array of non-negative integers (of length {@code len} unless len < 0). */
  private static long[] longArray(Path file, String where, String key, JsonNode node, int len)
      throws MalformedFileException {
    if (node == null || !node.isArray()) {
      throw new MalformedFileException(file, where + "missing or non-array " + key);
    }
    if (len >= 0 && node.size() != len) {
      throw new MalformedFileException(file,
          where + key + " must have " + len + " elements, has " + node.size());
    }
    long[] out = new long[node.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode v = node.get(i);
      if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
        throw new MalformedFileException(file,
            where + key + "[" + i + "] = " + v + " is not a non-negative integer");
      }
      out[i] = v.longValue();
    }
    return out;
  }

  /** Offsets sorted by begin must tile [0, dataLen) exactly: no overlap, gap or trailing bytes. */
  private static void checkCoverage(Path file, List<Pending> entries, long dataLen)
      throws MalformedFileException {
    List<Pending> sorted = new ArrayList<>(entries);
    sorted.sort(Comparator.comparingLong(Pending::begin).thenComparingLong(Pending::end));
    long pos = 0;
    String prev = null;
    for (Pending p : sorted) {
      if (p.begin < pos) {
        throw new MalformedFileException(file, "tensor '" + p.name + "': data_offsets ["
            + p.begin + ", " + p.end + "] overlap tensor '" + prev + "' (ending at " + pos + ")");
      }
      if (p.begin > pos) {
        throw new MalformedFileException(file, "tensor '" + p.name + "': data_offsets ["
            + p.begin + ", " + p.end + "] leave a gap of " + (p.begin - pos) + " bytes at " + pos);
      }
      pos = p.end;
      prev = p.name;
    }
    if (pos != dataLen) {
      throw new MalformedFileException(file, "tensors cover " + pos + " of the " + dataLen
          + " bytes of the data section (" + (dataLen - pos) + " trailing bytes unaccounted)");
    }
  }

  // ------------------------------------------------------------------ channel helpers

  private static void readFully(FileChannel ch, ByteBuffer dst, long pos, Path file)
      throws IOException {
    long p = pos;
    while (dst.hasRemaining()) {
      int r = ch.read(dst, p);
      if (r < 0) {
        throw new MalformedFileException(file, "unexpected end of file at byte " + p,
            new EOFException());
      }
      p += r;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer src) throws IOException {
    while (src.hasRemaining()) {
      ch.write(src);
    }
  }
}
