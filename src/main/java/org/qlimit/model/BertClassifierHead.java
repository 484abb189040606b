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
 * BERT's pooler and sequence classifier ({@code bert.pooler.dense}, {@code classifier}): logits =
 * classifier(tanh(pooler(h[:, 0]))), h[:, 0] the [CLS] hidden state of a {@link MaskedSequence}.
 * Activation sites: {@code bert.pooler.dense} and {@code classifier}, the inputs of the two
 * layers; the logits are not quantized.
 */
public record BertClassifierHead(Linear pooler, Linear classifier) implements Unit {

  @Override
  public String name() {
    return "bert.pooler";
  }

  @Override
  public List<Layer> layers() {
    return List.of(pooler, classifier);
  }

  @Override
  public List<String> actSites() {
    return List.of(pooler.name(), classifier.name());
  }

  @Override
  public String outputSite() {
    return null;
  }

  @Override
  public Var forward(Graph g, Var packed, ForwardContext ctx) {
    Var cls = Functions.selectPosition(g, MaskedSequence.unpack(g, packed).hidden(), 0);
    Var p = Functions.tanh(g, pooler.forward(g, ctx.activation(g, pooler.name(), cls), ctx));
    return classifier.forward(g, ctx.activation(g, classifier.name(), p), ctx);
  }

  @Override
  public int[] outputShape(int[] in) {
    return new int[] {classifier.outChannels()};
  }

  @Override
  public String kind() {
    return "layer";
  }

  @Override
  public Activation activationAfter(Layer layer) {
    return Activation.NONE;
  }
}
