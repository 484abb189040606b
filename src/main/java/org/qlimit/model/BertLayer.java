package org.qlimit.model;

import java.util.List;
import org.qlimit.autograd.Functions;
import org.qlimit.autograd.Graph;
import org.qlimit.autograd.Var;
import org.qlimit.nn.Activation;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Linear;
import org.qlimit.nn.Unit;

/**
 * One post-LayerNorm transformer layer of BERT ({@code bert.encoder.layer.i}), the reconstruction
 * unit of BRECQ and QDrop for BERT. With x the hidden states (N, L, H) and mask the key mask:
 *
 * <pre>
 *   q, k, v = split_heads(x·Wqᵀ + bq), …                       (N·heads, L, D)
 *   p = masked_softmax(q·kᵀ / √D)                              masked keys get 0
 *   a = LayerNorm1(merge_heads(p·v)·Woᵀ + bo + x)
 *   y = LayerNorm2(GELU(a·Wiᵀ + bi)·Wo2ᵀ + bo2 + a)
 * </pre>
 *
 * Input and output are {@link MaskedSequence} values (N, L, H+1). Activation sites (quantized in a
 * quantized context, passed through in FP), named after what they feed: {@code P.attention.self}
 * (x, the input of query, key and value), {@code P.attention.self.query_scores} and
 * {@code P.attention.self.key_scores} (the operands of q·kᵀ), {@code P.attention.self.probs} and
 * {@code P.attention.self.value_context} (the operands of p·v), {@code P.attention.output.dense},
 * {@code P.intermediate.dense}, {@code P.output.dense} (the inputs of those layers). LayerNorm,
 * softmax and GELU are computed in floating point.
 */
public record BertLayer(String name, Linear query, Linear key, Linear value, Linear attnOut,
    Var ln1Weight, Var ln1Bias, Linear intermediate, Linear output, Var ln2Weight, Var ln2Bias,
    int heads, float eps) implements Unit {

  @Override
  public List<Layer> layers() {
    return List.of(query, key, value, attnOut, intermediate, output);
  }

  @Override
  public List<Var> extraParameters() {
    return List.of(ln1Weight, ln1Bias, ln2Weight, ln2Bias);
  }

  /** The activation site names in execution order. */
  @Override
  public List<String> actSites() {
    return List.of(name + ".attention.self", name + ".attention.self.query_scores",
        name + ".attention.self.key_scores", name + ".attention.self.probs",
        name + ".attention.self.value_context", name + ".attention.output.dense",
        name + ".intermediate.dense", name + ".output.dense");
  }

  @Override
  public String outputSite() {
    return null;
  }

  @Override
  public Var forward(Graph g, Var packed, ForwardContext ctx) {
    MaskedSequence.Unpacked in = MaskedSequence.unpack(g, packed);
    int[] s = in.hidden().shape();
    int l = s[1];
    int d = s[2] / heads;
    List<String> sites = actSites();
    // linear layers see (N, L, ·) tensors, so a layer's cached input has one row per sentence
    Var x = in.hidden();
    Var xq = ctx.activation(g, sites.get(0), x);
    Var q = Functions.splitHeads(g, query.forward(g, xq, ctx), heads);
    Var k = Functions.splitHeads(g, key.forward(g, xq, ctx), heads);
    Var v = Functions.splitHeads(g, value.forward(g, xq, ctx), heads);
    q = ctx.activation(g, sites.get(1), q);
    k = ctx.activation(g, sites.get(2), k);
    Var scores = Functions.scale(g, Functions.bmm(g, q, k, true),
        (float) (1.0 / StrictMath.sqrt(d)));
    Var probs = Functions.maskedSoftmax(g, scores, in.mask(), heads * l);
    probs = ctx.activation(g, sites.get(3), probs);
    v = ctx.activation(g, sites.get(4), v);
    Var context = Functions.mergeHeads(g, Functions.bmm(g, probs, v, false), heads);
    context = ctx.activation(g, sites.get(5), context);
    Var a = Functions.layerNorm(g, Functions.add(g, attnOut.forward(g, context, ctx), x),
        ln1Weight, ln1Bias, eps);
    Var aq = ctx.activation(g, sites.get(6), a);
    Var inter = Functions.gelu(g, intermediate.forward(g, aq, ctx));
    inter = ctx.activation(g, sites.get(7), inter);
    Var y = Functions.layerNorm(g, Functions.add(g, output.forward(g, inter, ctx), a), ln2Weight,
        ln2Bias, eps);
    return MaskedSequence.pack(g, y, in.mask());
  }

  @Override
  public int[] outputShape(int[] in) {
    return in.clone();
  }

  @Override
  public String kind() {
    return "transformer";
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return Activation.NONE;
  }
}
