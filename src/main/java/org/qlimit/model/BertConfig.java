package org.qlimit.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.qlimit.util.Check;

/**
 * The hyperparameters of a BERT encoder for sequence classification, as in a Hugging Face
 * {@code config.json} of {@code model_type} "bert" ({@code BertConfig}). Only post-LayerNorm BERT
 * with absolute position embeddings and the erf GELU is supported; anything else is an error.
 *
 * @param hiddenSize H ({@code hidden_size}), divisible by the number of heads
 * @param numLayers transformer layers ({@code num_hidden_layers})
 * @param numHeads attention heads ({@code num_attention_heads})
 * @param intermediateSize feed-forward width ({@code intermediate_size})
 * @param vocabSize rows of the word embedding ({@code vocab_size}); must equal the vocab.txt size
 * @param maxPositions rows of the position embedding ({@code max_position_embeddings}): the
 *     longest input, [CLS] and [SEP] included
 * @param typeVocabSize rows of the token-type embedding ({@code type_vocab_size}); inputs use
 *     type 0 (single sentences)
 * @param layerNormEps ε of every LayerNorm ({@code layer_norm_eps})
 * @param numLabels classes ({@code num_labels}, or the size of {@code id2label})
 * @param padTokenId id of [PAD] ({@code pad_token_id}): positions holding it are masked
 */
public record BertConfig(int hiddenSize, int numLayers, int numHeads, int intermediateSize,
    int vocabSize, int maxPositions, int typeVocabSize, float layerNormEps, int numLabels,
    int padTokenId) {

  public BertConfig {
    Check.arg(hiddenSize > 0 && numLayers > 0 && numHeads > 0 && intermediateSize > 0
            && vocabSize > 0 && maxPositions > 1 && typeVocabSize > 0 && numLabels > 0,
        "BERT config: sizes must be positive (hidden_size %d, num_hidden_layers %d, "
            + "num_attention_heads %d, intermediate_size %d, vocab_size %d, "
            + "max_position_embeddings %d, type_vocab_size %d, num_labels %d)", hiddenSize,
        numLayers, numHeads, intermediateSize, vocabSize, maxPositions, typeVocabSize, numLabels);
    Check.arg(hiddenSize % numHeads == 0,
        "BERT config: hidden_size %d is not divisible by num_attention_heads %d", hiddenSize,
        numHeads);
    Check.arg(layerNormEps > 0 && Float.isFinite(layerNormEps),
        "BERT config: layer_norm_eps must be positive, got %s", layerNormEps);
    Check.arg(padTokenId >= 0 && padTokenId < vocabSize,
        "BERT config: pad_token_id %d outside the vocabulary of %d", padTokenId, vocabSize);
  }

  /** Width of one attention head, H / heads. */
  public int headSize() {
    return hiddenSize / numHeads;
  }

  /** The same configuration with another vocabulary size. */
  public BertConfig withVocabSize(int v) {
    return new BertConfig(hiddenSize, numLayers, numHeads, intermediateSize, v, maxPositions,
        typeVocabSize, layerNormEps, numLabels, padTokenId);
  }

  /**
   * Reads a Hugging Face config.json. Required: hidden_size, num_hidden_layers,
   * num_attention_heads, intermediate_size, vocab_size, max_position_embeddings; defaults as in
   * transformers' BertConfig: type_vocab_size 2, layer_norm_eps 1e-12, pad_token_id 0,
   * num_labels 2 (or the size of id2label). hidden_act must be "gelu" and
   * position_embedding_type "absolute" when present; model_type must be "bert" when present.
   *
   * @throws IllegalArgumentException one line naming the file and the field
   */
  public static BertConfig read(Path file) throws IOException {
    JsonNode root;
    try {
      root = new ObjectMapper().readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(file + ": no such file (the BERT config.json)");
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(file + ": not valid JSON (" + e.getOriginalMessage()
          + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": expected a JSON object");
    }
    try {
      requireText(root, "model_type", "bert");
      requireText(root, "hidden_act", "gelu");
      requireText(root, "position_embedding_type", "absolute");
      int labels = root.has("id2label") ? root.get("id2label").size() : 2;
      if (root.has("num_labels")) {
        labels = intField(root, "num_labels", labels);
      }
      return new BertConfig(intField(root, "hidden_size", -1),
          intField(root, "num_hidden_layers", -1), intField(root, "num_attention_heads", -1),
          intField(root, "intermediate_size", -1), intField(root, "vocab_size", -1),
          intField(root, "max_position_embeddings", -1), intField(root, "type_vocab_size", 2),
          (float) doubleField(root, "layer_norm_eps", 1e-12), labels,
          intField(root, "pad_token_id", 0));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage());
    }
  }

  private static void requireText(JsonNode root, String field, String want) {
    JsonNode n = root.get(field);
    Check.arg(n == null || n.isNull() || want.equals(n.asText()),
        "%s is '%s'; only '%s' is supported", field, n == null ? "" : n.asText(), want);
  }

  private static int intField(JsonNode root, String field, int dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      Check.arg(dflt >= 0, "missing field %s", field);
      return dflt;
    }
    Check.arg(n.isIntegralNumber() && n.canConvertToInt(), "%s must be an integer, got %s",
        field, n.toString());
    return n.intValue();
  }

  private static double doubleField(JsonNode root, String field, double dflt) {
    JsonNode n = root.get(field);
    if (n == null || n.isNull()) {
      return dflt;
    }
    Check.arg(n.isNumber(), "%s must be a number, got %s", field, n.toString());
    return n.doubleValue();
  }

  /** Writes a config.json that transformers' BertForSequenceClassification loads. */
  public void write(Path file) throws IOException {
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode o = m.createObjectNode();
    o.putArray("architectures").add("BertForSequenceClassification");
    o.put("model_type", "bert");
    o.put("hidden_size", hiddenSize);
    o.put("num_hidden_layers", numLayers);
    o.put("num_attention_heads", numHeads);
    o.put("intermediate_size", intermediateSize);
    o.put("hidden_act", "gelu");
    o.put("hidden_dropout_prob", 0.0);
    o.put("attention_probs_dropout_prob", 0.0);
    o.put("max_position_embeddings", maxPositions);
    o.put("type_vocab_size", typeVocabSize);
    o.put("initializer_range", 0.02);
    o.put("layer_norm_eps", Double.parseDouble(Float.toString(layerNormEps)));
    o.put("pad_token_id", padTokenId);
    o.put("position_embedding_type", "absolute");
    o.put("vocab_size", vocabSize);
    o.put("num_labels", numLabels);
    ObjectNode id2label = o.putObject("id2label");
    ObjectNode label2id = o.putObject("label2id");
    for (int i = 0; i < numLabels; i++) {
      id2label.put(Integer.toString(i), "LABEL_" + i);
      label2id.put("LABEL_" + i, i);
    }
    Files.writeString(file, m.writeValueAsString(o) + "\n");
  }
}
