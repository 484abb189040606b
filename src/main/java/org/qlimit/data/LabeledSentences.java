package org.qlimit.data;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.qlimit.util.Hashing;

/**
 * A labelled set of sentences held in memory (a sentence-classification split such as SST-2 or
 * TREC-6).
 *
 * <p>{@code sentences.get(i)} is the text of sentence i exactly as read (no normalisation),
 * {@code labels[i]} in 0..numClasses-1 its class. {@code name} says where the set came from
 * (e.g. "sst2/dev"); {@code sourceSha256} is {@link #contentSha256} of the set as read, so that a
 * run can record which data it used. The label array is held, not copied: treat it as read-only.
 */
public record LabeledSentences(String name, List<String> sentences, int[] labels, int numClasses,
    String sourceSha256) {

  public LabeledSentences {
    if (name == null || sentences == null || labels == null || sourceSha256 == null) {
      throw new IllegalArgumentException("name, sentences, labels and sourceSha256 are required");
    }
    sentences = List.copyOf(sentences);
    if (sentences.size() != labels.length || numClasses <= 0) {
      throw new IllegalArgumentException(name + ": " + sentences.size() + " sentences, "
          + labels.length + " labels, " + numClasses + " classes");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= numClasses) {
        throw new IllegalArgumentException(
            name + ": label " + labels[i] + " of sentence " + i + " outside 0.." + (numClasses - 1));
      }
    }
  }

  /** Number of sentences. */
  public int n() {
    return labels.length;
  }

  /** Number of sentences per class, index = class. */
  public int[] labelCounts() {
    int[] counts = new int[numClasses];
    for (int l : labels) {
      counts[l]++;
    }
    return counts;
  }

  /** Sentences from..to-1 as a new set; name gets "[from:to]". */
  public LabeledSentences subset(int from, int to) {
    if (from < 0 || to > n() || from > to) {
      throw new IllegalArgumentException(
          name + ": subset [" + from + ", " + to + ") outside [0, " + n() + ")");
    }
    return new LabeledSentences(name + "[" + from + ":" + to + "]", sentences.subList(from, to),
        java.util.Arrays.copyOfRange(labels, from, to), numClasses, sourceSha256);
  }

  /**
   * SHA-256 (hex) of a set: the ints n and numClasses (little-endian), then for each sentence its
   * label and UTF-8 byte length as little-endian ints followed by its UTF-8 bytes.
   */
  public static String contentSha256(List<String> sentences, int[] labels, int numClasses) {
    MessageDigest md = Hashing.sha256();
    Hashing.update(md, new int[] {labels.length, numClasses});
    for (int i = 0; i < labels.length; i++) {
      byte[] b = sentences.get(i).getBytes(StandardCharsets.UTF_8);
      Hashing.update(md, new int[] {labels[i], b.length});
      md.update(b);
    }
    return Hashing.hex(md.digest());
  }

  @Override
  public String toString() {
    return "LabeledSentences[" + name + ", n=" + n() + ", classes=" + numClasses + ", sha256="
        + sourceSha256 + "]";
  }
}
