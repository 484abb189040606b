package org.qlimit.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.nn.Unit;
import org.qlimit.tensor.Tensor;

/**
 * BERT for sequence classification in the Hugging Face layout ({@code
 * BertForSequenceClassification}; Devlin et al., "BERT", NAACL 2019): units
 * {@link BertEmbeddings}, one {@link BertLayer} per transformer layer, {@link BertClassifierHead}.
 * Tensor names are those of its {@code state_dict}:
 *
 * <pre>
 *   bert.embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight
 *   bert.embeddings.LayerNorm.{weight,bias}
 *   bert.encoder.layer.i.attention.self.{query,key,value}.{weight,bias}
 *   bert.encoder.layer.i.attention.output.dense.{weight,bias}
 *   bert.encoder.layer.i.attention.output.LayerNorm.{weight,bias}
 *   bert.encoder.layer.i.intermediate.dense.{weight,bias}
 *   bert.encoder.layer.i.output.dense.{weight,bias}
 *   bert.encoder.layer.i.output.LayerNorm.{weight,bias}
 *   bert.pooler.dense.{weight,bias}, classifier.{weight,bias}
 * </pre>
 *
 * The buffers {@code bert.embeddings.position_ids} and {@code token_type_ids} of some
 * transformers versions are ignored. The model's input is (N, maxLength) token ids.
 */
public final class Berts {
  private Berts() {}

  private static final String E = "bert.embeddings.";

  /**
   * Builds the model from a state dict; every tensor must have the shape {@code cfg} implies
   * (a mismatch names the tensor and both shapes) and none may be left over.
   *
   * @param maxLength the input length L (≤ max_position_embeddings)
   * @param trainable whether the parameters require gradients (training) or are frozen
   *     (evaluation and quantization)
   */
  public static Model load(String arch, StateDict sd, BertConfig cfg, int maxLength,
      boolean trainable) {
    if (maxLength > cfg.maxPositions() || maxLength < 2) {
      throw new IllegalArgumentException(arch + ": maximum length " + maxLength
          + " outside 2..max_position_embeddings " + cfg.maxPositions());
    }
    sd.ignoreSuffix("position_ids");
    sd.ignoreSuffix("token_type_ids");
    int h = cfg.hiddenSize();
    List<Unit> units = new ArrayList<>();
    units.add(new BertEmbeddings("bert.embeddings",
        param(sd, trainable, E + "word_embeddings.weight", cfg.vocabSize(), h),
        param(sd, trainable, E + "position_embeddings.weight", cfg.maxPositions(), h),
        param(sd, trainable, E + "token_type_embeddings.weight", cfg.typeVocabSize(), h),
        param(sd, trainable, E + "LayerNorm.weight", h), param(sd, trainable, E + "LayerNorm.bias", h),
        cfg.layerNormEps(), cfg.padTokenId()));
    for (int i = 0; i < cfg.numLayers(); i++) {
      String p = "bert.encoder.layer." + i;
      units.add(new BertLayer(p, linear(sd, trainable, p + ".attention.self.query", h, h),
          linear(sd, trainable, p + ".attention.self.key", h, h),
          linear(sd, trainable, p + ".attention.self.value", h, h),
          linear(sd, trainable, p + ".attention.output.dense", h, h),
          param(sd, trainable, p + ".attention.output.LayerNorm.weight", h),
          param(sd, trainable, p + ".attention.output.LayerNorm.bias", h),
          linear(sd, trainable, p + ".intermediate.dense", h, cfg.intermediateSize()),
          linear(sd, trainable, p + ".output.dense", cfg.intermediateSize(), h),
          param(sd, trainable, p + ".output.LayerNorm.weight", h), param(sd, trainable, p + ".output.LayerNorm.bias", h),
          cfg.numHeads(), cfg.layerNormEps()));
    }
    units.add(new BertClassifierHead(linear(sd, trainable, "bert.pooler.dense", h, h),
        linear(sd, trainable, "classifier", h, cfg.numLabels())));
    sd.requireAllTaken();
    return new Model(arch, units, new int[] {maxLength}, cfg.numLabels());
  }

  private static Var param(StateDict sd, boolean trainable, String name, int... shape) {
    return new Var(sd.take(name, shape), trainable, name);
  }

  private static Linear linear(StateDict sd, boolean trainable, String name, int in, int out) {
    return new Linear(name, param(sd, trainable, name + ".weight", out, in),
        param(sd, trainable, name + ".bias", out));
  }

  /**
   * Fresh weights with BERT's initialisation (transformers {@code BertPreTrainedModel
   * ._init_weights}): linear weights and embeddings N(0, 0.02²), the [PAD] row of the word
   * embedding zero, biases 0, LayerNorm γ = 1 and β = 0. Tensors are drawn in state-dict order.
   */
  public static StateDict fresh(BertConfig cfg, SplittableRandom rng) {
    StateDict sd = new StateDict("fresh BERT");
    int h = cfg.hiddenSize();
    Tensor word = normal(rng, cfg.vocabSize(), h);
    java.util.Arrays.fill(word.data(), cfg.padTokenId() * h, (cfg.padTokenId() + 1) * h, 0f);
    sd.put(E + "word_embeddings.weight", word);
    sd.put(E + "position_embeddings.weight", normal(rng, cfg.maxPositions(), h));
    sd.put(E + "token_type_embeddings.weight", normal(rng, cfg.typeVocabSize(), h));
    sd.put(E + "LayerNorm.weight", Tensor.full(1f, h));
    sd.put(E + "LayerNorm.bias", Tensor.zeros(h));
    for (int i = 0; i < cfg.numLayers(); i++) {
      String p = "bert.encoder.layer." + i;
      freshLinear(sd, rng, p + ".attention.self.query", h, h);
      freshLinear(sd, rng, p + ".attention.self.key", h, h);
      freshLinear(sd, rng, p + ".attention.self.value", h, h);
      freshLinear(sd, rng, p + ".attention.output.dense", h, h);
      sd.put(p + ".attention.output.LayerNorm.weight", Tensor.full(1f, h));
      sd.put(p + ".attention.output.LayerNorm.bias", Tensor.zeros(h));
      freshLinear(sd, rng, p + ".intermediate.dense", h, cfg.intermediateSize());
      freshLinear(sd, rng, p + ".output.dense", cfg.intermediateSize(), h);
      sd.put(p + ".output.LayerNorm.weight", Tensor.full(1f, h));
      sd.put(p + ".output.LayerNorm.bias", Tensor.zeros(h));
    }
    freshLinear(sd, rng, "bert.pooler.dense", h, h);
    freshLinear(sd, rng, "classifier", h, cfg.numLabels());
    return sd;
  }

  private static void freshLinear(StateDict sd, SplittableRandom rng, String name, int in,
      int out) {
    sd.put(name + ".weight", normal(rng, out, in));
    sd.put(name + ".bias", Tensor.zeros(out));
  }

  private static Tensor normal(SplittableRandom rng, int... shape) {
    Tensor t = Tensor.zeros(shape);
    float[] d = t.data();
    for (int i = 0; i < d.length; i++) {
      d[i] = (float) (0.02 * ConvBn.gaussian(rng));
    }
    return t;
  }
}
