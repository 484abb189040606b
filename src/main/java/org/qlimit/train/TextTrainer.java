package org.qlimit.train;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.autograd.Var;
import org.qlimit.data.LabeledSentences;
import org.qlimit.data.TokenizedSentences;
import org.qlimit.data.WordPieceTokenizer;
import org.qlimit.eval.TextEvaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.BertConfig;
import org.qlimit.model.Berts;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.Layer;
import org.qlimit.nn.Model;
import org.qlimit.nn.StateDict;
import org.qlimit.optim.Adam;
import org.qlimit.optim.Schedules;
import org.qlimit.tensor.Tensor;
import org.qlimit.util.Check;
import org.qlimit.util.Streams;

/**
 * Trains a BERT-layout encoder for sequence classification from scratch on a sentence set.
 *
 * <p>Recipe ({@link TextTrainConfig}):
 * <ul>
 *   <li>Vocabulary: {@link WordPieceTokenizer#build} from the training sentences (special tokens,
 *       every character as a word start and as a "##" continuation, every word seen at least
 *       minCount times), so a rare or unseen word becomes word pieces, never [UNK].</li>
 *   <li>Weights: {@link Berts#fresh} (BERT's N(0, 0.02²) initialisation) from the WEIGHT_INIT
 *       stream; the model uses the state dict's own tensors, so updates land in
 *       {@link #stateDict()} under transformers' names.</li>
 *   <li>Each step: mean softmax cross-entropy of a batch padded to its longest sentence,
 *       backward, then AdamW (β 0.9/0.999, ε 1e-8; PyTorch formulation) with decoupled weight
 *       decay on linear weights only (BERT's practice: no decay on biases and LayerNorm; none on
 *       embeddings either, which are sparse here). No dropout.</li>
 *   <li>Learning rate: linear warm-up over the first warmup·T steps, then linear decay to 0 at T
 *       ({@link Schedules#linearWarmupDecay}), T = epochs·⌈n / batch⌉.</li>
 *   <li>Epoch e: Fisher–Yates order from {@code TRAIN_SHUFFLE.random(seed, e)}; batches are
 *       consecutive slices; the last partial batch is kept.</li>
 *   <li>After each epoch: accuracy on the evaluation split.</li>
 * </ul>
 * Every random number comes from a stream of the run seed and every kernel accumulates in a fixed
 * order, so a run's bits depend only on the config and data, not on threads or vector width.
 */
public final class TextTrainer {

  /** The trained state dict, its config and vocabulary, and the history. */
  public record Result(StateDict state, BertConfig config, WordPieceTokenizer vocabulary,
      List<Trainer.EpochRecord> history) {
    /** Evaluation accuracy (%) after the last epoch (NaN when not evaluated). */
    public double finalAccuracy() {
      return history.isEmpty() ? Double.NaN : history.get(history.size() - 1).testTop1();
    }
  }

  private final TextTrainConfig cfg;
  private final WordPieceTokenizer vocab;
  private final BertConfig bert;
  private final StateDict sd;
  private final Model model;
  private final Kernels kernels;
  private final List<Var> params;
  private final Adam adam;

  /** Builds the vocabulary from {@code train} and fresh weights. */
  public TextTrainer(TextTrainConfig cfg, LabeledSentences train) {
    this.cfg = cfg;
    List<String> sentences = cfg.trainLimit() == 0 ? train.sentences()
        : train.sentences().subList(0, Math.min(cfg.trainLimit(), train.n()));
    this.vocab = WordPieceTokenizer.build(sentences, cfg.minCount());
    this.bert = new BertConfig(cfg.hidden(), cfg.layers(), cfg.heads(), cfg.intermediate(),
        vocab.vocabSize(), cfg.maxLength(), 2, 1e-12f, train.numClasses(), vocab.padId());
    this.sd = Berts.fresh(bert, Streams.WEIGHT_INIT.random(cfg.seed()));
    this.model = Berts.load("bert", sd, bert, cfg.maxLength(), true);
    this.kernels = Kernels.of(cfg.numerics());
    Map<String, Var> byName = new LinkedHashMap<>();
    for (Var v : model.parameters()) {
      byName.put(v.name(), v);
    }
    Map<Var, Boolean> linearWeights = new IdentityHashMap<>();
    for (Layer l : model.layers()) {
      linearWeights.put(l.weight(), Boolean.TRUE);
    }
    this.params = new ArrayList<>();
    List<Boolean> decay = new ArrayList<>();
    for (String name : sd.names()) {
      Var v = byName.remove(name);
      Check.state(v != null && v.value() == sd.asMap().get(name),
          "%s: the model does not use the state dict's tensor", name);
      params.add(v);
      decay.add(linearWeights.containsKey(v));
    }
    Check.state(byName.isEmpty(), "model parameters without a state-dict entry: %s",
        byName.keySet());
    this.adam = new Adam(params, decay, 0.9f, 0.999f, 1e-8f, cfg.weightDecay());
  }

  public WordPieceTokenizer vocabulary() {
    return vocab;
  }

  public BertConfig config() {
    return bert;
  }

  /** The state dict being trained (live). */
  public StateDict stateDict() {
    return sd;
  }

  public Model model() {
    return model;
  }

  /**
   * Runs the recipe on {@code train}, evaluating on {@code eval} after every epoch (unless the
   * config's evalLimit is −1 or eval is null).
   *
   * @throws IllegalArgumentException when a sentence needs more than maxLength tokens (naming it)
   */
  public Result fit(LabeledSentences train, LabeledSentences eval, Trainer.Listener listener) {
    int n = cfg.trainLimit() == 0 ? train.n() : cfg.trainLimit();
    Check.arg(n <= train.n(), "--train-limit %d exceeds the %d training sentences of %s",
        cfg.trainLimit(), train.n(), train.name());
    TokenizedSentences tr = TokenizedSentences.encode(train.subset(0, n), vocab, cfg.maxLength());
    TokenizedSentences ev = eval == null || cfg.evalLimit() < 0 ? null
        : TokenizedSentences.encode(cfg.evalLimit() == 0 ? eval
            : eval.subset(0, Math.min(cfg.evalLimit(), eval.n())), vocab, cfg.maxLength());
    int steps = (n + cfg.batch() - 1) / cfg.batch();
    long total = (long) cfg.epochs() * steps;
    long warm = (long) Math.floor(cfg.warmup() * total);
    List<Trainer.EpochRecord> history = new ArrayList<>();
    for (int e = 0; e < cfg.epochs(); e++) {
      long t0 = System.nanoTime();
      listener.epochStart(e, cfg.epochs(), steps);
      int[] order = Trainer.shuffled(n, Streams.TRAIN_SHUFFLE.random(cfg.seed(), e));
      double lossSum = 0;
      long correct = 0;
      float lr = 0;
      for (int s = 0; s < steps; s++) {
        int from = s * cfg.batch();
        int[] idx = java.util.Arrays.copyOfRange(order, from, Math.min(n, from + cfg.batch()));
        lr = (float) Schedules.linearWarmupDecay(cfg.lr(), (long) e * steps + s, warm, total);
        Trainer.StepResult r = step(tr, idx, lr);
        Check.state(Double.isFinite(r.loss()), "training loss is %s at epoch %d, step %d of %d "
            + "(learning rate %s); lower --lr", Check.describe(r.loss()), e + 1, s + 1, steps, lr);
        lossSum += r.loss() * idx.length;
        correct += r.correct();
        listener.step(e, s + 1, steps, r.loss(), lr);
      }
      double acc = Double.NaN;
      if (ev != null) {
        acc = TextEvaluator.accuracy(model, ForwardContext.FP, kernels, ev, 64, cfg.evalLimit(),
            listener::evaluating).percent();
      }
      Trainer.EpochRecord rec = new Trainer.EpochRecord(e + 1, steps, lossSum / n,
          100.0 * correct / n, acc, lr, (System.nanoTime() - t0) / 1e9);
      history.add(rec);
      listener.epochEnd(rec);
    }
    return new Result(sd, bert, vocab, List.copyOf(history));
  }

  /** One AdamW step on the sentences {@code idx} of {@code set}. */
  public Trainer.StepResult step(TokenizedSentences set, int[] idx, float lr) {
    Tensor x = set.batch(idx);
    return Trainer.crossEntropyStep(model, kernels, ForwardContext.FP, x, set.labels(), idx,
        () -> adam.step(lr));
  }
}
