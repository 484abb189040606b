package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/**
 * {@code qlimit train --arch bert} on a tiny budget writes a Hugging Face style folder
 * (checkpoint, config.json, vocab.txt, history) that {@code qlimit eval} reads back with the
 * accuracy training reported; bad BERT inputs end in one line.
 */
class BertCommandsTest extends QuietTest {

  private static final String[] TINY = {"--hidden", "16", "--layers", "1", "--heads", "2",
      "--intermediate", "32", "--epochs", "1", "--batch", "16", "--train-limit", "32",
      "--test-limit", "40", "--threads", "2"};

  @Test
  void trainWritesAFolderThatEvalReadsBack(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("bert_trec/model.safetensors");
    CliRun t = CliRun.of(new String[] {"train", "--arch", "bert", "--data", "trec", "--out",
        out.toString()}, TINY);
    assertThat(t.code()).as(t.err()).isZero();
    for (String f : List.of("model.safetensors", "config.json", "vocab.txt", "model.json")) {
      assertThat(dir.resolve("bert_trec").resolve(f)).exists();
    }
    String history = Files.readString(dir.resolve("bert_trec/model.json"));
    assertThat(history).contains("\"eval_set\" : \"trec/test\"");
    String acc = t.out().replaceAll("(?s).*final trec/test accuracy ([0-9.]+) %.*", "$1");
    CliRun e = CliRun.of("eval", "--arch", "bert", "--data", "trec", "--model", out.toString(),
        "--limit", "40");
    assertThat(e.code()).as(e.err()).isZero();
    assertThat(e.out()).contains("bert on trec/test (test, 40 sentences): FP32 accuracy " + acc
        + " %");

    // a vocabulary that does not match the word embedding
    Path vocab = dir.resolve("bert_trec/vocab.txt");
    Files.writeString(vocab, Files.readString(vocab, StandardCharsets.UTF_8) + "extra\n",
        StandardCharsets.UTF_8);
    CliRun bad = CliRun.of("eval", "--arch", "bert", "--data", "trec", "--model", out.toString());
    assertThat(bad.code()).isNotZero();
    assertThat(bad.err().strip().lines()).hasSize(1);
    assertThat(bad.err()).contains("vocab.txt: ").contains(" tokens, but the word embedding of "
        + "model.safetensors has ");
  }

  @Test
  void overLongSentencesAndMismatchedDataAreOneLineErrors(@TempDir Path dir) {
    CliRun r = CliRun.of(new String[] {"train", "--arch", "bert", "--data", "sst2", "--out",
        dir.resolve("m.safetensors").toString(), "--max-length", "20"}, TINY);
    assertThat(r.code()).isNotZero();
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("sst2/train[0:32]: sentence 1: sentence 'a stirring , funny and "
        + "finally transporting re-ima...' has ").contains("more than the maximum length 20");
    CliRun m = CliRun.of(new String[] {"train", "--arch", "resnet20", "--data", "sst2", "--out",
        dir.resolve("m.safetensors").toString()}, TINY);
    assertThat(m.code()).isEqualTo(2);
    assertThat(m.err()).contains("--arch resnet20 does not read --data sst2");
  }
}
