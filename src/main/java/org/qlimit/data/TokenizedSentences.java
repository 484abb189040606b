package org.qlimit.data;

import org.qlimit.tensor.Tensor;

/**
 * A labelled sentence set encoded by a {@link WordPieceTokenizer}: {@code ids[i]} are the token
 * ids of sentence i, [CLS] … [SEP], without padding; {@code labels[i]} its class. Batches are
 * padded with [PAD] to their longest sentence. The arrays are held, not copied.
 */
public record TokenizedSentences(String name, int[][] ids, int[] labels, int numClasses,
    int padId, String sourceSha256) {

  /**
   * Encodes every sentence of {@code set}.
   *
   * @throws IllegalArgumentException naming the set and the sentence when one needs more than
   *     {@code maxLength} tokens
   */
  public static TokenizedSentences encode(LabeledSentences set, WordPieceTokenizer tok,
      int maxLength) {
    int[][] ids = new int[set.n()][];
    for (int i = 0; i < ids.length; i++) {
      WordPieceTokenizer.Encoding e;
      try {
        e = tok.encode(set.sentences().get(i), maxLength, false);
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException(set.name() + ": sentence " + (i + 1) + ": "
            + ex.getMessage());
      }
      ids[i] = java.util.Arrays.copyOf(e.ids(), e.length());
    }
    return new TokenizedSentences(set.name(), ids, set.labels(), set.numClasses(), tok.padId(),
        set.sourceSha256());
  }

  public int n() {
    return ids.length;
  }

  /** The most tokens of any sentence ([CLS] and [SEP] included). */
  public int longest() {
    int m = 0;
    for (int[] s : ids) {
      m = Math.max(m, s.length);
    }
    return m;
  }

  /** The first {@code count} sentences. */
  public TokenizedSentences head(int count) {
    if (count < 0 || count > n()) {
      throw new IllegalArgumentException(name + ": " + count + " sentences asked, " + n()
          + " available");
    }
    return new TokenizedSentences(name + "[0:" + count + "]",
        java.util.Arrays.copyOf(ids, count), java.util.Arrays.copyOf(labels, count), numClasses,
        padId, sourceSha256);
  }

  /**
   * The sentences {@code indices} as (B, Lb) token ids stored as floats, padded with [PAD] to the
   * longest of them (Lb), in the given order.
   */
  public Tensor batch(int[] indices) {
    int len = 0;
    for (int i : indices) {
      len = Math.max(len, ids[i].length);
    }
    Tensor t = Tensor.full(padId, indices.length, len);
    float[] d = t.data();
    for (int b = 0; b < indices.length; b++) {
      int[] s = ids[indices[b]];
      for (int j = 0; j < s.length; j++) {
        d[b * len + j] = s[j];
      }
    }
    return t;
  }

  /** The sentences from..to-1 as a batch (see {@link #batch(int[])}). */
  public Tensor batch(int from, int to) {
    int[] idx = new int[to - from];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = from + i;
    }
    return batch(idx);
  }
}
