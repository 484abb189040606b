package org.qlimit.eval;

import java.util.Locale;
import org.qlimit.data.LabeledImages;
import org.qlimit.nn.Model;

/**
 * How the labels of a labelled image set fit a classifier's outputs. A label the model has no
 * logit for can never be predicted, so a set with such a label is rejected ({@link #check}); a
 * set whose images cover fewer classes than the model has is valid, but its top-1 means less
 * (e.g. a single class folder against a 1,000-class model), so commands state the coverage.
 *
 * @param dataset the set's name
 * @param images the items (images or sentences) looked at (the first {@code images} of the set)
 * @param classesPresent distinct labels among those images
 * @param modelClasses the model's number of logits
 * @param item what the set holds, singular ("image" or "sentence")
 */
public record ClassCoverage(String dataset, int images, int classesPresent, int modelClasses,
    String item) {

  /** The coverage of an image set. */
  public ClassCoverage(String dataset, int images, int classesPresent, int modelClasses) {
    this(dataset, images, classesPresent, modelClasses, "image");
  }

  /**
   * Checks every label of {@code set} against the model's logits and counts the distinct labels
   * among its first {@code count} images ({@code count} ≤ 0: all).
   *
   * @throws IllegalArgumentException naming the dataset, the first label beyond the model's
   *     classes, its image index and the model's class count
   */
  public static ClassCoverage check(Model model, LabeledImages set, int count) {
    return check(model, set.name(), set.labels(), set.numClasses(), count, "image");
  }

  /**
   * As {@link #check(Model, LabeledImages, int)} for a labelled set of any kind: {@code labels}
   * of its {@code item}s (singular noun, e.g. "sentence"), {@code numClasses} the set's classes.
   */
  public static ClassCoverage check(Model model, String name, int[] labels, int numClasses,
      int count, String item) {
    int classes = model.numClasses();
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] >= classes) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "dataset %s: label %d "
                + "(%s %d) is beyond the %d classes of model %s (labels 0..%d); the data's "
                + "%d classes do not fit this model", name, labels[i], item, i, classes,
            model.arch(), classes - 1, numClasses));
      }
    }
    int n = count <= 0 ? labels.length : Math.min(count, labels.length);
    boolean[] seen = new boolean[classes];
    int present = 0;
    for (int i = 0; i < n; i++) {
      if (!seen[labels[i]]) {
        seen[labels[i]] = true;
        present++;
      }
    }
    return new ClassCoverage(name, n, present, classes, item);
  }

  /** Whether the images cover every class of the model. */
  public boolean complete() {
    return classesPresent == modelClasses;
  }

  /** E.g. "the 6 images of imagefolder/val cover 1 of the model's 1000 classes". */
  public String describe() {
    return String.format(Locale.ROOT, "the %d %ss of %s cover %d of the model's %d classes",
        images, item, dataset, classesPresent, modelClasses);
  }
}
