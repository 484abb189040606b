package org.qlimit.model;

import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Unit;
import org.qlimit.util.Check;

/**
 * BERT's embedding unit ({@code bert.embeddings}): y = LayerNorm(word[id] + position[l] +
 * tokenType[0]) for token ids x (N, L) (given as floats holding integers), output packed with the
 * attention mask (id ≠ [PAD]) as a {@link MaskedSequence} (N, L, H+1). The three tables are
 * looked up through {@link ForwardContext#embeddingTable}, so a quantized context reads them at 8
 * bits per tensor with nearest rounding (ALGORITHMS.md §11); they are not reconstructed, so the
 * unit has no {@link Layer}. LayerNorm runs in floating point.
 */
public record BertEmbeddings(String name, Var word, Var position, Var tokenType, Var lnWeight,
    Var lnBias, float eps, int padTokenId) implements Unit {

  /** Parameter names of the three tables, as {@link ForwardContext#embeddingTable} gets them. */
  public static final String WORD = "bert.embeddings.word_embeddings.weight";
  public static final String POSITION = "bert.embeddings.position_embeddings.weight";
  public static final String TOKEN_TYPE = "bert.embeddings.token_type_embeddings.weight";

  @Override
  public List<Layer> layers() {
    return List.of();
  }

  @Override
  public List<Var> extraParameters() {
    return List.of(word, position, tokenType, lnWeight, lnBias);
  }

  @Override
  public List<String> actSites() {
    return List.of();
  }

  @Override
  public String outputSite() {
    return null;
  }

  @Override
  public Var forward(Graph g, Var x, ForwardContext ctx) {
    int[] s = x.shape();
    Check.arg(s.length == 2, "%s: expected token ids (N, L), got %s", name,
        java.util.Arrays.toString(s));
    int n = s[0];
    int l = s[1];
    int vocab = word.value().dim(0);
    Check.arg(l <= position.value().dim(0),
        "%s: sequence length %d exceeds max_position_embeddings %d", name, l,
        position.value().dim(0));
    float[] xd = x.value().contiguous().data();
    int[] ids = new int[n * l];
    int[] pos = new int[n * l];
    int[] types = new int[n * l];
    int[] mask = new int[n * l];
    for (int i = 0; i < ids.length; i++) {
      float v = xd[i];
      Check.arg(v == Math.rint(v) && v >= 0 && v < vocab,
          "%s: token id %s at sequence %d, position %d is not an id of the vocabulary of %d",
          name, v, i / l, i % l, vocab);
      ids[i] = (int) v;
      pos[i] = i % l;
      mask[i] = ids[i] == padTokenId ? 0 : 1;
    }
    Var e = Functions.add(g,
        Functions.embedding(g, ids, ctx.embeddingTable(g, WORD, word)),
        Functions.embedding(g, pos, ctx.embeddingTable(g, POSITION, position)));
    e = Functions.add(g, e,
        Functions.embedding(g, types, ctx.embeddingTable(g, TOKEN_TYPE, tokenType)));
    Var y = Functions.layerNorm(g, e, lnWeight, lnBias, eps);
    return MaskedSequence.pack(g, Functions.reshape(g, y, n, l, word.value().dim(1)), mask);
  }

  @Override
  public int[] outputShape(int[] in) {
    return new int[] {in[0], word.value().dim(1) + 1};
  }

  @Override
  public String kind() {
    return "embeddings";
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return Activation.NONE;
  }
}
