package org.qlimit.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for files and for exact (bitwise) hashes of numeric arrays. */
public final class Hashing {
  private Hashing() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 not available", e);
    }
  }

  public static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  /** SHA-256 of a file's bytes, as lowercase hex. */
  public static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int r;
      while ((r = in.read(buf)) > 0) {
        md.update(buf, 0, r);
      }
    }
    return hex(md.digest());
  }

  /** Feeds floats into a digest as their raw IEEE bits, little-endian. */
  public static void update(MessageDigest md, float[] a) {
    ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : a) {
      bb.putInt(Float.floatToRawIntBits(v));
    }
    md.update(bb.array());
  }

  /** Feeds ints into a digest, little-endian. */
  public static void update(MessageDigest md, int[] a) {
    ByteBuffer bb = ByteBuffer.allocate(a.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : a) {
      bb.putInt(v);
    }
    md.update(bb.array());
  }

  public static void update(MessageDigest md, String s) {
    md.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    md.update((byte) 0);
  }
}
