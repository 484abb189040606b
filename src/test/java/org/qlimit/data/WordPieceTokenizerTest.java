package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * The WordPiece tokenizer: hand-worked cases of each basic-tokenization rule, and agreement with
 * an independent implementation (Hugging Face tokenizers, the Rust library, through DJL's
 * bindings) on every sentence of the SST-2 dev and test sets and the TREC test set.
 */
class WordPieceTokenizerTest extends QuietTest {

  private static WordPieceTokenizer small() {
    return new WordPieceTokenizer(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",
        "##aff", "##able", "runn", "##ing", "cafe", ",", ".", "!", "'", "s", "a", "##b", "中"));
  }

  @Test
  void basicTokenizationLowerCasesStripsAccentsAndSplitsPunctuationAndCjk() {
    assertThat(WordPieceTokenizer.basicTokens(" Héllo,\tWORLD!! café\u0000 naïveté 中文x "))
        .containsExactly("hello", ",", "world", "!", "!", "cafe", "naivete", "中", "文", "x");
    // control characters vanish, U+00A0 (Zs) separates, [PAD] in text is plain text
    assertThat(WordPieceTokenizer.basicTokens("a\u200bb\u00a0c [PAD]"))
        .containsExactly("ab", "c", "[", "pad", "]");
    assertThat(WordPieceTokenizer.basicTokens("won't -lrb- x")).containsExactly("won", "'", "t",
        "-", "lrb", "-", "x");
  }

  @Test
  void wordPiecesAreGreedyLongestMatchFirstWithUnknownWords() {
    WordPieceTokenizer t = small();
    assertThat(t.tokenize("Unaffable running CAFÉ's"))
        .containsExactly("un", "##aff", "##able", "runn", "##ing", "cafe", "'", "s");
    // a word with a position no piece matches is one [UNK]; so is a word over 100 characters
    assertThat(t.tokenize("unx abbb")).containsExactly("[UNK]", "a", "##b", "##b", "##b");
    assertThat(t.tokenize("a".repeat(100))).hasSize(1);
    assertThat(t.tokenize("a" + "b".repeat(99))).hasSize(100);
    assertThat(t.tokenize("a" + "b".repeat(100))).containsExactly("[UNK]");
  }

  @Test
  void encodeAddsClsSepPadsAndMasks() {
    WordPieceTokenizer t = small();
    WordPieceTokenizer.Encoding e = t.encode("unaffable!", 8, false);
    assertThat(e.ids()).containsExactly(2, 5, 6, 7, 13, 3, 0, 0);
    assertThat(e.attentionMask()).containsExactly(1, 1, 1, 1, 1, 1, 0, 0);
    assertThat(e.length()).isEqualTo(6);
    assertThatThrownBy(() -> t.encode("unaffable!", 5, false))
        .hasMessage("sentence 'unaffable!' has 6 tokens with [CLS] and [SEP], more than the "
            + "maximum length 5");
    assertThat(t.encode("unaffable!", 5, true).ids()).containsExactly(2, 5, 6, 7, 3);
  }

  @Test
  void vocabularyErrorsAreOneLine(@TempDir Path dir) throws IOException {
    Path v = dir.resolve("vocab.txt");
    Files.writeString(v, "[PAD]\n[UNK]\n[CLS]\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> WordPieceTokenizer.read(v))
        .hasMessage(v + ": vocabulary has no [SEP] token");
    Files.writeString(v, "[PAD]\n[UNK]\n[CLS]\n[SEP]\na\na\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> WordPieceTokenizer.read(v))
        .hasMessage(v + ": vocabulary: token 'a' appears twice (ids 4 and 5)");
    small().write(v);
    assertThat(WordPieceTokenizer.read(v).vocab()).isEqualTo(small().vocab());
  }

  @Test
  void vocabularyBuiltFromTrainingSentencesIsDeterministic() throws IOException {
    TextDatasets.Split sst = TextDatasets.load("sst2", null);
    WordPieceTokenizer a = WordPieceTokenizer.build(sst.train().sentences(), 2);
    WordPieceTokenizer b = WordPieceTokenizer.build(sst.train().sentences(), 2);
    assertThat(a.vocab()).isEqualTo(b.vocab());
    assertThat(a.vocab().subList(0, 5)).containsExactly("[PAD]", "[UNK]", "[CLS]", "[SEP]",
        "[MASK]");
    // every training word has a whole-word token or decomposes into characters: no [UNK]
    for (String s : sst.train().sentences()) {
      assertThat(a.tokenize(s)).doesNotContain("[UNK]");
    }
  }

  /** Every sentence of the evaluation sets, against Hugging Face tokenizers. */
  @Test
  void agreesWithHuggingFaceTokenizersOnWholeEvaluationSets(@TempDir Path dir)
      throws IOException {
    TextDatasets.Split sst = TextDatasets.load("sst2", null);
    TextDatasets.Split trec = TextDatasets.load("trec", null);
    // SST-2 words seen at least 3 times, without the continuation pieces of the vowels: many
    // evaluation words then go to pieces, and many to [UNK]
    List<String> vocab = new ArrayList<>(WordPieceTokenizer.build(sst.train().sentences(), 3)
        .vocab());
    vocab.removeAll(List.of("##a", "##e", "##i", "##o", "##u"));
    vocab.addAll(List.of("##ing", "##ed", "##ly", "##s", "##er", "un", "##able", "##ness"));
    WordPieceTokenizer ours = new WordPieceTokenizer(vocab.stream().distinct().toList());
    Path json = dir.resolve("tokenizer.json");
    writeHuggingFaceJson(ours, json);
    List<String> texts = new ArrayList<>();
    texts.addAll(sst.dev().sentences());
    texts.addAll(sst.test().sentences());
    texts.addAll(trec.test().sentences());
    texts.addAll(trec.train().sentences().subList(0, 1000));
    texts.add("Héllo,\tWORLD!! café naïveté 中文x a\u200bb\u00a0c " + "z".repeat(101));
    int maxLen = 128;
    int unk = 0;
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(json,
        Map.of("addSpecialTokens", "true", "padding", "false", "truncation", "false"))) {
      for (String text : texts) {
        Encoding ref = hf.encode(text);
        WordPieceTokenizer.Encoding e = ours.encode(text, maxLen, false);
        long[] refIds = ref.getIds();
        assertThat(e.length()).as(text).isEqualTo(refIds.length);
        for (int i = 0; i < refIds.length; i++) {
          assertThat((long) e.ids()[i]).as("%s token %d", text, i).isEqualTo(refIds[i]);
          if (refIds[i] == ours.unkId()) {
            unk++;
          }
        }
      }
    }
    assertThat(texts).hasSize(872 + 1821 + 500 + 1000 + 1);
    assertThat(unk).as("the comparison covers unknown words").isGreaterThan(300);
  }

  /** A tokenizer.json of the bert-base-uncased layout over our vocabulary. */
  private static void writeHuggingFaceJson(WordPieceTokenizer t, Path out) throws IOException {
    ObjectMapper m = new ObjectMapper();
    ObjectNode root = m.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    root.putArray("added_tokens");
    ObjectNode norm = root.putObject("normalizer");
    norm.put("type", "BertNormalizer");
    norm.put("clean_text", true);
    norm.put("handle_chinese_chars", true);
    norm.putNull("strip_accents");
    norm.put("lowercase", true);
    root.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
    ObjectNode post = root.putObject("post_processor");
    post.put("type", "BertProcessing");
    ArrayNode sep = post.putArray("sep");
    sep.add("[SEP]").add(t.sepId());
    ArrayNode cls = post.putArray("cls");
    cls.add("[CLS]").add(t.clsId());
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordPiece");
    model.put("unk_token", "[UNK]");
    model.put("continuing_subword_prefix", "##");
    model.put("max_input_chars_per_word", 100);
    ObjectNode vocab = model.putObject("vocab");
    for (int i = 0; i < t.vocabSize(); i++) {
      vocab.put(t.vocab().get(i), i);
    }
    m.writeValue(out.toFile(), root);
  }
}
