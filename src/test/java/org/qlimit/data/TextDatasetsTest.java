package org.qlimit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.testing.QuietTest;

/** The embedded SST-2 and TREC-6 files: counts from datasets/README.md, and malformed lines. */
class TextDatasetsTest extends QuietTest {

  @Test
  void sst2SplitsHaveThePublishedSizesAndLabelCounts() throws IOException {
    TextDatasets.Split s = TextDatasets.load("sst2", null);
    assertThat(s.train().n()).isEqualTo(6920);
    assertThat(s.train().labelCounts()).containsExactly(3310, 3610);
    assertThat(s.dev().labelCounts()).containsExactly(428, 444);
    assertThat(s.test().labelCounts()).containsExactly(912, 909);
    assertThat(s.eval()).isSameAs(s.dev());
    assertThat(s.train().sentences().get(0)).startsWith("a stirring , funny and finally");
    // UTF-8: the non-ASCII letters survive
    assertThat(s.train().sentences()).anyMatch(t -> t.contains("café"));
  }

  @Test
  void trecSplitsHaveThePublishedSizesAndLabelCounts() throws IOException {
    TextDatasets.Split s = TextDatasets.load("TREC", null);
    assertThat(s.train().labelCounts()).containsExactly(1162, 1250, 86, 1223, 835, 896);
    assertThat(s.test().labelCounts()).containsExactly(138, 94, 9, 65, 81, 113);
    assertThat(s.dev()).isNull();
    assertThat(s.eval()).isSameAs(s.test());
    // the stray 0xF0 byte of line 66, read as ISO-8859-1
    assertThat(s.train().sentences().get(65)).contains("sister\u00f0city");
  }

  @Test
  void malformedLinesAreOneLineErrorsNamingFileAndLine(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("bad.txt");
    Files.writeString(f, "1 good sentence\n7 bad label\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .isInstanceOf(MalformedDataException.class)
        .hasMessage(f + ": line 2: label 7 outside 0..1");
    Files.writeString(f, "1 ok\nnolabel\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .hasMessage(f + ": line 2: expected '<label> <sentence>', got 'nolabel'");
    Files.writeString(f, "x y\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .hasMessage(f + ": line 1: label 'x' is not an integer");
    Files.write(f, new byte[] {'1', ' ', 'a', (byte) 0xF0, '\n'});
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .hasMessage(f + ": line 1: not valid UTF-8");
    Files.writeString(f, "1 a\r\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .hasMessageContaining("line 1: CR LF");
    Files.writeString(f, "1 a\n\n", StandardCharsets.UTF_8);
    assertThatThrownBy(() -> SentenceFiles.read(f, StandardCharsets.UTF_8, 2, "x"))
        .hasMessage(f + ": line 2: empty line");
    assertThatThrownBy(() -> TextDatasets.load("imdb", null))
        .hasMessage("unknown text dataset 'imdb' (known: sst2, trec)");
  }

  @Test
  void contentHashChangesWithALabel() throws IOException {
    LabeledSentences dev = TextDatasets.load("sst2", null).dev();
    int[] flipped = dev.labels().clone();
    flipped[3] = 1 - flipped[3];
    assertThat(LabeledSentences.contentSha256(dev.sentences(), flipped, 2))
        .isNotEqualTo(dev.sourceSha256());
    assertThat(LabeledSentences.contentSha256(dev.sentences(), dev.labels(), 2))
        .isEqualTo(dev.sourceSha256());
  }
}
