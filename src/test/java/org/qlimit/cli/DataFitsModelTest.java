package org.qlimit.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.data.Datasets;
import org.qlimit.model.Architectures;
import org.qlimit.model.Checkpoints;
import org.qlimit.testing.QuietTest;

/**
 * The data's classes are checked against the model's outputs: labels beyond the model's classes
 * are a one-line error naming the dataset, the label and the class count; fewer classes present
 * than the model has are stated in the output and recorded in result.json. ImageFolder trees are
 * evaluated against a torchvision MobileNetV2 (1,000 classes) with fresh seeded weights.
 */
class DataFitsModelTest extends QuietTest {
  @TempDir static Path shared;
  private static Path mobilenet;

  @BeforeAll
  static void writeModel() throws Exception {
    mobilenet = shared.resolve("mobilenetv2.safetensors");
    Checkpoints.write(mobilenet, Architectures.get("mobilenetv2").fresh(new SplittableRandom(7)),
        Map.of());
  }

  private static void png(Path f, int rgb) throws Exception {
    Files.createDirectories(f.getParent());
    BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 30; y++) {
      for (int x = 0; x < 40; x++) {
        img.setRGB(x, y, rgb + x);
      }
    }
    ImageIO.write(img, "png", f.toFile());
  }

  private static CliRun evalImageFolder(Path tree) {
    return CliRun.of("eval", "--model", mobilenet.toString(), "--arch", "mobilenetv2", "--data",
        "imagefolder", "--data-dir", tree.toString(), "--threads", "2");
  }

  @Test
  void aSingleClassFolderAgainstAThousandClassModelIsStated(@TempDir Path tree) throws Exception {
    png(tree.resolve("val/n01440764/a.png"), 0x203040);
    png(tree.resolve("val/n01440764/b.png"), 0x605040);
    CliRun r = evalImageFolder(tree);
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("mobilenetv2 on imagefolder/val (test, 2 images): FP32 top-1")
        .contains("note: the 2 images of imagefolder/val cover 1 of the model's 1000 classes");
  }

  @Test
  void anEmptyClassFolderIsAnError(@TempDir Path tree) throws Exception {
    png(tree.resolve("val/cat/a.png"), 0x203040);
    Files.createDirectories(tree.resolve("val/dog"));
    Files.writeString(tree.resolve("val/dog/notes.txt"), "not an image");
    CliRun r = evalImageFolder(tree);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("val/dog")
        .contains("class folder has no .jpg, .jpeg or .png image (class 1 of 2)");
  }

  @Test
  void aMissingDataFolderSaysSo(@TempDir Path dir) {
    CliRun r = evalImageFolder(dir.resolve("nowhere"));
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err().strip()).doesNotContain("\n").contains("nowhere: folder not found");
  }

  @Test
  void labelsBeyondTheModelsClassesAreAnError(@TempDir Path tree) throws Exception {
    // 1,001 class folders of one image each (an empty class folder is an error of its own):
    // the last one is label 1000, the model has 1000 logits
    for (int c = 0; c <= 1000; c++) {
      png(tree.resolve(String.format("val/c%04d/a.png", c)), 0x102030 + c);
    }
    CliRun r = evalImageFolder(tree);
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.out()).doesNotContain("top-1");
    assertThat(r.err().strip()).doesNotContain("\n")
        .isEqualTo("qlimit eval: error: dataset imagefolder/val: label 1000 (image 1000) is beyond the 1000 "
            + "classes of model mobilenetv2 (labels 0..999); the data's 1001 classes do not fit "
            + "this model");
  }

  @Test
  void quantizeRecordsTheClassesPresent(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    CliRun r = CliRun.of("quantize", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--method", "rtn", "--wbits", "4",
        "--abits", "32", "--calib", "4", "--eval-limit", "3", "--threads", "2", "--out",
        out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    Datasets.Split data = Datasets.load("fashion-mnist", null);
    long calibClasses = Arrays.stream(data.train().labels(), 0, 4).distinct().count();
    long testClasses = Arrays.stream(data.test().labels(), 0, 3).distinct().count();
    assertThat(testClasses).isLessThan(10);
    assertThat(calibClasses).isLessThan(10);
    JsonNode json = new ObjectMapper().readTree(out.resolve("result.json").toFile());
    assertThat(json.get("model_classes").asInt()).isEqualTo(10);
    assertThat(json.get("classes_present").asLong()).isEqualTo(testClasses);
    assertThat(json.get("calib_classes_present").asLong()).isEqualTo(calibClasses);
    assertThat(r.out())
        .contains("note: the 4 images of fashion-mnist/train-5k cover " + calibClasses
            + " of the model's 10 classes")
        .contains("note: the 3 images of fashion-mnist/test cover " + testClasses
            + " of the model's 10 classes");
  }

  @Test
  void trainRecordsTheClassesPresent(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("m.safetensors");
    CliRun r = CliRun.of("train", "--arch", "regnetx-small-fmnist", "--data", "fashion-mnist",
        "--epochs", "1", "--batch", "2", "--train-limit", "4", "--test-limit", "3", "--threads",
        "2", "--out", out.toString());
    assertThat(r.code()).as(r.err()).isZero();
    Datasets.Split data = Datasets.load("fashion-mnist", null);
    long trainClasses = Arrays.stream(data.train().labels(), 0, 4).distinct().count();
    long testClasses = Arrays.stream(data.test().labels(), 0, 3).distinct().count();
    JsonNode json = new ObjectMapper().readTree(TrainCommand.historyFile(out).toFile());
    assertThat(json.get("model_classes").asInt()).isEqualTo(10);
    assertThat(json.get("train_classes_present").asLong()).isEqualTo(trainClasses);
    assertThat(json.get("classes_present").asLong()).isEqualTo(testClasses);
    assertThat(r.out()).contains("note: the 4 images of fashion-mnist/train-5k cover "
        + trainClasses + " of the model's 10 classes");
  }

  @Test
  void evaluatingEveryClassAddsNoNote() {
    CliRun r = CliRun.of("eval", "--model", "datasets/models/resnet20_fmnist.safetensors",
        "--arch", "resnet20-fmnist", "--data", "fashion-mnist", "--limit", "200", "--threads",
        "2");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("(test, 200 images)").doesNotContain("note:");
  }
}
