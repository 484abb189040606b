package org.qlimit.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.qlimit.data.LabeledImages;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.testing.QuietTest;

/** {@link ClassCoverage}: labels beyond the model's logits are rejected, coverage is counted. */
class ClassCoverageTest extends QuietTest {
  /** ResNet-20 for Fashion-MNIST (fresh weights): 10 classes. */
  private static final Model MODEL = Architectures.get("resnet20-fmnist")
      .build(Architectures.get("resnet20-fmnist").fresh(new SplittableRandom(1)), true);

  private static LabeledImages set(int numClasses, int... labels) {
    return new LabeledImages("toy/test", labels.length, 1, 2, 2, new byte[labels.length * 4],
        labels, numClasses, "0");
  }

  @Test
  void countsTheClassesOfTheFirstImages() {
    ClassCoverage c = ClassCoverage.check(MODEL, set(10, 3, 3, 7, 1, 9), 3);
    assertThat(c).isEqualTo(new ClassCoverage("toy/test", 3, 2, 10));
    assertThat(c.complete()).isFalse();
    assertThat(c.describe()).isEqualTo("the 3 images of toy/test cover 2 of the model's 10 "
        + "classes");
    assertThat(ClassCoverage.check(MODEL, set(10, 0, 2, 1, 3, 4, 5, 6, 7, 8, 9), 0).complete())
        .isTrue();
  }

  @Test
  void aLabelBeyondTheModelsClassesIsAnErrorEvenOutsideTheImagesUsed() {
    assertThatThrownBy(() -> ClassCoverage.check(MODEL, set(12, 0, 4, 11, 10), 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dataset toy/test: label 11 (image 2) is beyond the 10 classes of model resnet20-fmnist "
            + "(labels 0..9); the data's 12 classes do not fit this model");
  }
}
