package org.qlimit.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The BERT uncased WordPiece tokenizer (Devlin et al. 2019; google-research/bert
 * {@code tokenization.py}, the same steps as Hugging Face's {@code BertTokenizer} with
 * {@code do_lower_case=True}).
 *
 * <p>Basic tokenization, per code point: drop NUL, U+FFFD and control characters (Unicode
 * category C*, except tab, LF and CR, which count as whitespace); map whitespace (space, tab, LF,
 * CR, category Zs) to a space; put spaces around CJK ideographs; lower-case
 * ({@code toLowerCase(Locale.ROOT)}); strip accents (NFD, then drop category Mn); split on
 * whitespace; make every punctuation character (ASCII 33–47, 58–64, 91–96, 123–126, or category
 * P*) a token of its own. Special-token strings such as "[PAD]" in the text are ordinary text.
 *
 * <p>WordPiece: each word is split greedily, longest match first, into vocabulary pieces, every
 * piece after the first written with the prefix "##". A word of more than 100 code points, or
 * one with a position where no piece matches, becomes the single token [UNK].
 *
 * <p>Encoding: [CLS] pieces [SEP], then [PAD] up to the maximum length; the attention mask is 1 on
 * real tokens and 0 on padding. A sentence longer than the maximum is an error unless truncation
 * is asked for (then the pieces are cut to maxLength − 2 and [SEP] is kept).
 *
 * <p>The vocabulary is a {@code vocab.txt}: one token per line, the line number (from 0) is the
 * id; it must hold [PAD], [UNK], [CLS] and [SEP]. Immutable and thread-safe.
 */
public final class WordPieceTokenizer {
  /** Words longer than this many code points become [UNK] (BERT's max_input_chars_per_word). */
  public static final int MAX_CHARS_PER_WORD = 100;

  public static final String PAD = "[PAD]";
  public static final String UNK = "[UNK]";
  public static final String CLS = "[CLS]";
  public static final String SEP = "[SEP]";
  public static final String MASK = "[MASK]";

  private final List<String> vocab;
  private final Map<String, Integer> ids;
  private final int padId;
  private final int unkId;
  private final int clsId;
  private final int sepId;

  /** A tokenizer over {@code vocab} (id = index); special tokens must be present, no duplicates. */
  public WordPieceTokenizer(List<String> vocab) {
    this.vocab = List.copyOf(vocab);
    Map<String, Integer> m = new HashMap<>();
    for (int i = 0; i < this.vocab.size(); i++) {
      Integer prev = m.putIfAbsent(this.vocab.get(i), i);
      if (prev != null) {
        throw new IllegalArgumentException("vocabulary: token '" + this.vocab.get(i)
            + "' appears twice (ids " + prev + " and " + i + ")");
      }
    }
    this.ids = m;
    this.padId = require(PAD);
    this.unkId = require(UNK);
    this.clsId = require(CLS);
    this.sepId = require(SEP);
  }

  private int require(String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new IllegalArgumentException("vocabulary has no " + token + " token");
    }
    return id;
  }

  /** Reads a vocab.txt (UTF-8, one token per line; a trailing newline is optional). */
  public static WordPieceTokenizer read(Path vocabTxt) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(vocabTxt);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(vocabTxt + ": no such file");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new MalformedDataException(vocabTxt, "not valid UTF-8");
    }
    List<String> tokens = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
    if (!tokens.isEmpty() && tokens.get(tokens.size() - 1).isEmpty()) {
      tokens.remove(tokens.size() - 1);
    }
    for (int i = 0; i < tokens.size(); i++) {
      String t = tokens.get(i);
      if (t.endsWith("\r")) {
        t = t.substring(0, t.length() - 1);
        tokens.set(i, t);
      }
      if (t.isEmpty()) {
        throw new MalformedDataException(vocabTxt, "line " + (i + 1) + ": empty token");
      }
    }
    try {
      return new WordPieceTokenizer(tokens);
    } catch (IllegalArgumentException e) {
      throw new MalformedDataException(vocabTxt, e.getMessage());
    }
  }

  /** Writes the vocabulary as vocab.txt (UTF-8, one token per line, LF, final LF). */
  public void write(Path vocabTxt) throws IOException {
    Files.writeString(vocabTxt, String.join("\n", vocab) + "\n", StandardCharsets.UTF_8);
  }

  public List<String> vocab() {
    return vocab;
  }

  public int vocabSize() {
    return vocab.size();
  }

  public int padId() {
    return padId;
  }

  public int unkId() {
    return unkId;
  }

  public int clsId() {
    return clsId;
  }

  public int sepId() {
    return sepId;
  }

  /** The id of {@code token}, or -1. */
  public int id(String token) {
    Integer id = ids.get(token);
    return id == null ? -1 : id;
  }

  // ------------------------------------------------------------------ basic tokenization

  /** Basic tokenization (no word pieces): cleaned, lower-cased, accent-free words and punctuation. */
  public static List<String> basicTokens(String text) {
    StringBuilder clean = new StringBuilder(text.length() + 8);
    text.codePoints().forEach(cp -> {
      if (cp == 0 || cp == 0xFFFD || isControl(cp)) {
        return;
      }
      if (isWhitespace(cp)) {
        clean.append(' ');
      } else if (isCjk(cp)) {
        clean.append(' ').appendCodePoint(cp).append(' ');
      } else {
        clean.appendCodePoint(cp);
      }
    });
    List<String> out = new ArrayList<>();
    for (String word : clean.toString().split(" ")) {
      if (word.isEmpty()) {
        continue;
      }
      String w = stripAccents(word.toLowerCase(Locale.ROOT));
      StringBuilder cur = new StringBuilder();
      for (int i = 0; i < w.length(); ) {
        int cp = w.codePointAt(i);
        i += Character.charCount(cp);
        if (isPunctuation(cp)) {
          if (cur.length() > 0) {
            out.add(cur.toString());
            cur.setLength(0);
          }
          out.add(new String(Character.toChars(cp)));
        } else {
          cur.appendCodePoint(cp);
        }
      }
      if (cur.length() > 0) {
        out.add(cur.toString());
      }
    }
    return out;
  }

  private static String stripAccents(String s) {
    String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
    StringBuilder b = new StringBuilder(nfd.length());
    nfd.codePoints().forEach(cp -> {
      if (Character.getType(cp) != Character.NON_SPACING_MARK) {
        b.appendCodePoint(cp);
      }
    });
    return b.toString();
  }

  static boolean isWhitespace(int cp) {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r'
        || Character.getType(cp) == Character.SPACE_SEPARATOR;
  }

  static boolean isControl(int cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') {
      return false;
    }
    int t = Character.getType(cp);
    return t == Character.CONTROL || t == Character.FORMAT || t == Character.UNASSIGNED
        || t == Character.PRIVATE_USE || t == Character.SURROGATE;
  }

  static boolean isPunctuation(int cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96)
        || (cp >= 123 && cp <= 126)) {
      return true;
    }
    return switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION,
          Character.START_PUNCTUATION, Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION -> true;
      default -> false;
    };
  }

  static boolean isCjk(int cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF)
        || (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F)
        || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF)
        || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
  }

  // ------------------------------------------------------------------ word pieces

  /** The word-piece tokens of {@code text} (no [CLS]/[SEP]). */
  public List<String> tokenize(String text) {
    List<String> out = new ArrayList<>();
    for (String word : basicTokens(text)) {
      wordPieces(word, out);
    }
    return out;
  }

  private void wordPieces(String word, List<String> out) {
    if (word.codePointCount(0, word.length()) > MAX_CHARS_PER_WORD) {
      out.add(UNK);
      return;
    }
    List<String> pieces = new ArrayList<>();
    int start = 0;
    while (start < word.length()) {
      int end = word.length();
      String match = null;
      while (start < end) {
        String sub = word.substring(start, end);
        if (start > 0) {
          sub = "##" + sub;
        }
        if (ids.containsKey(sub)) {
          match = sub;
          break;
        }
        end = word.offsetByCodePoints(end, -1);
      }
      if (match == null) {
        out.add(UNK);
        return;
      }
      pieces.add(match);
      start = end;
    }
    out.addAll(pieces);
  }

  /** The ids of {@code tokens}. */
  public int[] ids(List<String> tokens) {
    int[] r = new int[tokens.size()];
    for (int i = 0; i < r.length; i++) {
      r[i] = ids.get(tokens.get(i));
    }
    return r;
  }

  /**
   * One encoded sentence: {@code ids} and {@code attentionMask} of length maxLength;
   * {@code length} tokens are real ([CLS] … [SEP]), the rest [PAD] with mask 0.
   */
  public record Encoding(int[] ids, int[] attentionMask, int length) {}

  /**
   * Encodes one sentence as [CLS] pieces [SEP] [PAD]…, maxLength ids in all.
   *
   * @throws IllegalArgumentException when the sentence needs more than maxLength tokens and
   *     {@code truncate} is false (the message gives both lengths and the sentence's start)
   */
  public Encoding encode(String text, int maxLength, boolean truncate) {
    if (maxLength < 2) {
      throw new IllegalArgumentException("maximum length " + maxLength + " leaves no room for "
          + "[CLS] and [SEP]");
    }
    List<String> tokens = tokenize(text);
    if (tokens.size() + 2 > maxLength) {
      if (!truncate) {
        String head = text.length() > 50 ? text.substring(0, 50) + "..." : text;
        throw new IllegalArgumentException("sentence '" + head + "' has " + (tokens.size() + 2)
            + " tokens with [CLS] and [SEP], more than the maximum length " + maxLength);
      }
      tokens = tokens.subList(0, maxLength - 2);
    }
    int[] outIds = new int[maxLength];
    int[] mask = new int[maxLength];
    Arrays.fill(outIds, padId);
    outIds[0] = clsId;
    int p = 1;
    for (String t : tokens) {
      outIds[p++] = ids.get(t);
    }
    outIds[p++] = sepId;
    Arrays.fill(mask, 0, p, 1);
    return new Encoding(outIds, mask, p);
  }

  /**
   * Builds a vocabulary from training sentences: the special tokens [PAD], [UNK], [CLS], [SEP],
   * [MASK] (ids 0..4), then every character seen (as a word start and as a "##" continuation),
   * sorted by code point, then every basic-tokenized word seen at least {@code minCount} times,
   * by descending count and then by {@link String#compareTo} order. Deterministic: the same
   * sentences give the same vocabulary.
   */
  public static WordPieceTokenizer build(List<String> sentences, int minCount) {
    Map<String, Integer> counts = new HashMap<>();
    java.util.TreeSet<Integer> chars = new java.util.TreeSet<>();
    for (String s : sentences) {
      for (String w : basicTokens(s)) {
        counts.merge(w, 1, Integer::sum);
        w.codePoints().forEach(chars::add);
      }
    }
    List<String> v = new ArrayList<>(List.of(PAD, UNK, CLS, SEP, MASK));
    java.util.Set<String> seen = new java.util.HashSet<>(v);
    for (int cp : chars) {
      String c = new String(Character.toChars(cp));
      if (seen.add(c)) {
        v.add(c);
      }
    }
    for (int cp : chars) {
      String c = "##" + new String(Character.toChars(cp));
      if (seen.add(c)) {
        v.add(c);
      }
    }
    List<Map.Entry<String, Integer>> words = new ArrayList<>(counts.entrySet());
    words.sort((a, b) -> a.getValue().equals(b.getValue()) ? a.getKey().compareTo(b.getKey())
        : Integer.compare(b.getValue(), a.getValue()));
    for (Map.Entry<String, Integer> e : words) {
      if (e.getValue() >= minCount && seen.add(e.getKey())) {
        v.add(e.getKey());
      }
    }
    return new WordPieceTokenizer(Collections.unmodifiableList(v));
  }
}
