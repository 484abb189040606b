package org.qlimit.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.data.Datasets;
import org.qlimit.data.LabeledImages;
import org.qlimit.data.Normalization;
import org.qlimit.eval.Evaluator;
import org.qlimit.kernel.Kernels;
import org.qlimit.model.Architectures;
import org.qlimit.model.Checkpoints;
import org.qlimit.nn.ForwardContext;
import org.qlimit.nn.StateDict;
import org.qlimit.tensor.Tensor;
import org.qlimit.testing.QuietTest;
import org.qlimit.util.NumericsConfig;

/** Training from scratch on the embedded Fashion-MNIST subset: determinism, learning, errors. */
class TrainerTest extends QuietTest {
  private static final String ARCH = "regnetx-small-fmnist";
  private static final Normalization NORM = Normalization.FASHION_MNIST;
  private static LabeledImages train;
  private static LabeledImages test;
  /** The tiny run with one thread, shared by the tests that only read it. */
  private static Trainer oneThread;
  private static Trainer.Result oneThreadResult;

  @BeforeAll
  static void load() throws IOException {
    Datasets.Split s = Datasets.load("fashion-mnist", null);
    train = s.train();
    test = s.test();
    oneThread = new Trainer(tiny(1));
    oneThreadResult = oneThread.fit(train, test, NORM, Trainer.Listener.NONE);
  }

  /** Two steps of 32 augmented images, evaluated on 32 test images. */
  private static TrainConfig tiny(int threads) {
    return new TrainConfig(ARCH, 1, 32, 0.1f, 0.9f, true, 5e-4f, 7, 64, 32, true,
        NumericsConfig.defaults().withThreads(threads));
  }

  private static List<int[]> bits(StateDict sd) {
    List<int[]> out = new ArrayList<>();
    for (String n : sd.names()) {
      float[] d = sd.asMap().get(n).contiguous().data();
      int[] b = new int[d.length];
      for (int i = 0; i < d.length; i++) {
        b[i] = Float.floatToRawIntBits(d[i]);
      }
      out.add(b);
    }
    return out;
  }

  @Test
  void sameSeedGivesSameBitsWithOneAndTwoThreads() {
    Trainer.Result a = oneThreadResult;
    Trainer.Result b = new Trainer(tiny(2)).fit(train, test, NORM, Trainer.Listener.NONE);
    assertThat(a.state().names()).isEqualTo(b.state().names());
    List<int[]> ba = bits(a.state());
    List<int[]> bb = bits(b.state());
    for (int i = 0; i < ba.size(); i++) {
      assertThat(bb.get(i)).as(a.state().names().get(i)).isEqualTo(ba.get(i));
    }
    assertThat(Double.doubleToRawLongBits(b.history().get(0).trainLoss()))
        .isEqualTo(Double.doubleToRawLongBits(a.history().get(0).trainLoss()));
    assertThat(b.finalTestTop1()).isEqualTo(a.finalTestTop1());
    assertThat(a.history()).hasSize(1);
    assertThat(a.history().get(0).steps()).isEqualTo(2);
  }

  @Test
  void trainingUpdatesTheStateDictsOwnTensors() {
    StateDict init = Architectures.get(ARCH).fresh(
        org.qlimit.util.Streams.WEIGHT_INIT.random(7));
    Trainer t = oneThread;
    Trainer.Result r = oneThreadResult;
    assertThat(r.state()).isSameAs(t.stateDict());
    assertThat(r.state().names()).isEqualTo(init.names());
    Map<String, Tensor> before = init.asMap();
    Map<String, Tensor> after = r.state().asMap();
    // A conv weight, a BatchNorm γ and a running mean all moved away from their initial values.
    for (String n : List.of("stem.0.weight", "stem.1.weight", "stem.1.running_mean")) {
      assertThat(after).containsKey(n);
      assertThat(after.get(n).contiguous().data()).as(n)
          .isNotEqualTo(before.get(n).contiguous().data());
    }
    // Every parameter of the model is a state-dict tensor, and only BN buffers are not parameters.
    assertThat(t.parameters().keySet()).allMatch(after::containsKey);
    assertThat(after.keySet()).allMatch(n -> t.parameters().containsKey(n)
        || n.endsWith(".running_mean") || n.endsWith(".running_var"));
  }

  @Test
  void writtenCheckpointReloadsWithTheSameAccuracy(@TempDir Path dir) throws IOException {
    Trainer.Result r = oneThreadResult;
    Path f = dir.resolve("m.safetensors");
    Checkpoints.write(f, r.state(), Map.of("arch", ARCH));
    double reloaded = Evaluator.top1(Architectures.load(ARCH, f), ForwardContext.FP,
        Kernels.of(NumericsConfig.defaults()), test, NORM, 16, 32, Evaluator.Progress.NONE)
        .percent();
    assertThat(reloaded).isEqualTo(r.finalTestTop1());
  }

  @Test
  void lossDecreasesWhenOverfittingOneSmallBatch() {
    TrainConfig cfg = new TrainConfig(ARCH, 1, 8, 0.05f, 0.9f, true, 0f, 3, 0, -1, false,
        NumericsConfig.defaults());
    Trainer t = new Trainer(cfg);
    int[] idx = new int[8];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    double first = t.step(train, NORM, idx, cfg.lr(), null).loss();
    double last = first;
    for (int s = 1; s < 15; s++) {
      last = t.step(train, NORM, idx, cfg.lr(), null).loss();
    }
    assertThat(first).isGreaterThan(1.5);
    assertThat(last).isLessThan(0.5 * first);
  }

  @Test
  void cosineScheduleIsPerIteration() {
    TrainConfig cfg = tiny(1);
    assertThat(Trainer.learningRate(cfg, 0, 100)).isEqualTo(0.1f);
    assertThat(Trainer.learningRate(cfg, 50, 100)).isCloseTo(0.05f,
        org.assertj.core.data.Offset.offset(1e-7f));
    assertThat(Trainer.learningRate(cfg, 99, 100)).isGreaterThan(0f).isLessThan(1e-4f);
  }

  @Test
  void shuffleIsASeededPermutation() {
    int[] p = Trainer.shuffled(1000, new SplittableRandom(5));
    int[] q = Trainer.shuffled(1000, new SplittableRandom(5));
    assertThat(p).isEqualTo(q);
    int[] sorted = p.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < sorted.length; i++) {
      assertThat(sorted[i]).isEqualTo(i);
    }
    assertThat(p).isNotEqualTo(sorted);
  }

  @Test
  void augmentWithoutPaddingIsTheImageOrItsMirror() {
    int[] idx = {0, 1, 2, 3, 4, 5, 6, 7};
    int size = train.imageSize();
    int w = train.width();
    float[] plain = new float[idx.length * size];
    train.fillBatch(idx, plain, NORM);
    float[] aug = new float[idx.length * size];
    Augment.padCropFlip(aug, train, idx, NORM, 0, new SplittableRandom(1));
    int flipped = 0;
    for (int b = 0; b < idx.length; b++) {
      float[] img = Arrays.copyOfRange(plain, b * size, (b + 1) * size);
      float[] got = Arrays.copyOfRange(aug, b * size, (b + 1) * size);
      float[] mirror = new float[size];
      for (int y = 0; y < train.height(); y++) {
        for (int x = 0; x < w; x++) {
          mirror[y * w + x] = img[y * w + (w - 1 - x)];
        }
      }
      boolean same = Arrays.equals(got, img);
      assertThat(same || Arrays.equals(got, mirror)).as("image %d", b).isTrue();
      flipped += same ? 0 : 1;
    }
    assertThat(flipped).isBetween(1, idx.length - 1);
  }

  @Test
  void augmentPadsWithBlackAndIsSeeded() {
    int[] idx = {0, 1, 2, 3};
    float[] a = new float[idx.length * train.imageSize()];
    float[] b = new float[a.length];
    Augment.padCropFlip(a, train, idx, NORM, 2, new SplittableRandom(9));
    Augment.padCropFlip(b, train, idx, NORM, 2, new SplittableRandom(9));
    assertThat(a).isEqualTo(b);
    float black = NORM.apply(0, 0);
    float white = NORM.apply(255, 0);
    for (float v : a) {
      assertThat(v).isBetween(black, white);
    }
    assertThat(Augment.defaultPad(28)).isEqualTo(2);
    assertThat(Augment.defaultPad(32)).isEqualTo(4);
  }

  @Test
  void badArgumentsGiveClearErrors() {
    NumericsConfig nc = NumericsConfig.defaults();
    assertThatThrownBy(() -> TrainConfig.standard(ARCH, 0, 1, nc))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--epochs");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 1, 0.1f, 0.9f, true, 0f, 1, 0, 0, true, nc))
        .hasMessageContaining("--batch");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 8, 0f, 0.9f, true, 0f, 1, 0, 0, true, nc))
        .hasMessageContaining("--lr");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 8, 0.1f, 1f, true, 0f, 1, 0, 0, true, nc))
        .hasMessageContaining("--momentum");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 8, 0.1f, 0f, true, 0f, 1, 0, 0, true, nc))
        .hasMessageContaining("--nesterov");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 8, 0.1f, 0.9f, true, -1f, 1, 0, 0, true, nc))
        .hasMessageContaining("--weight-decay");
    assertThatThrownBy(() -> new TrainConfig(ARCH, 1, 8, 0.1f, 0.9f, true, 0f, 1, -5, 0, true, nc))
        .hasMessageContaining("--train-limit");
    assertThatThrownBy(() -> new Trainer(TrainConfig.standard("no-such-net", 1, 1, nc)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown architecture 'no-such-net'");
    Trainer t = new Trainer(tiny(1).withLimits(999_999, 0));
    assertThatThrownBy(() -> t.fit(train, test, NORM, Trainer.Listener.NONE))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--train-limit 999999");
    Trainer cifar = new Trainer(TrainConfig.standard("mobilenetv2-small-cifar10", 1, 1, nc));
    assertThatThrownBy(() -> cifar.fit(train, test, NORM, Trainer.Listener.NONE))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expects 3x32x32");
  }
}
