package org.qlimit.cli;

import picocli.CommandLine.Option;

/** The size of a BERT-layout encoder trained from scratch ({@code qlimit train --arch bert}). */
class BertOptions {
  @Option(names = "--hidden", defaultValue = "64", description = "BERT: hidden size (default 64)")
  int hidden;

  @Option(names = "--layers", defaultValue = "2", description = "BERT: transformer layers")
  int layers;

  @Option(names = "--heads", defaultValue = "4", description = "BERT: attention heads")
  int heads;

  @Option(names = "--intermediate", defaultValue = "256",
      description = "BERT: feed-forward width")
  int intermediate;

  @Option(names = "--max-length", defaultValue = "128", paramLabel = "N",
      description = "BERT: max_position_embeddings, the longest sentence in tokens with [CLS] "
          + "and [SEP] (a longer one is an error)")
  int maxLength;

  @Option(names = "--min-count", defaultValue = "2", paramLabel = "N",
      description = "BERT: training words seen at least N times enter the vocabulary (rarer "
          + "ones become character pieces)")
  int minCount;

  @Option(names = "--warmup", defaultValue = "0.1",
      description = "BERT: fraction of steps of linear warm-up before the linear decay")
  float warmup;
}
