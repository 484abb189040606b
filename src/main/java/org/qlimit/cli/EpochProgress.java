package org.qlimit.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.qlimit.train.Trainer;

/**
 * What {@code qlimit train} prints while it trains: a progress bar per epoch with the step's loss,
 * the epoch's running mean loss and the learning rate, then one summary line per epoch. The
 * metric names differ by task (top-1 on images, accuracy on sentences), the layout does not.
 */
final class EpochProgress implements Trainer.Listener {
  private final PrintStream log;
  private final String trainMetric;
  private final String evalMetric;
  private ProgressBar bar;
  private int epochs;
  private double lossSum;

  /**
   * @param trainMetric the summary line's name of the training-set metric, e.g. "train top-1"
   * @param evalMetric the summary line's name of the held-out metric, e.g. "test top-1"
   */
  EpochProgress(PrintStream log, String trainMetric, String evalMetric) {
    this.log = log;
    this.trainMetric = trainMetric;
    this.evalMetric = evalMetric;
  }

  @Override
  public void epochStart(int epoch, int epochs, int steps) {
    this.epochs = epochs;
    lossSum = 0;
    bar = new ProgressBar(log, String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, epochs),
        steps);
  }

  @Override
  public void step(int epoch, int step, int steps, double loss, float lr) {
    lossSum += loss;
    bar.update(step, String.format(Locale.ROOT, "loss %.4f (mean %.4f) lr %.4g", loss,
        lossSum / step, lr));
  }

  @Override
  public void epochEnd(Trainer.EpochRecord e) {
    log.printf(Locale.ROOT, "  epoch %d/%d: train loss %.4f, %s %.2f %%, %s %s (%s)%n", e.epoch(),
        epochs, e.trainLoss(), trainMetric, e.trainTop1(), evalMetric,
        Double.isNaN(e.testTop1()) ? "n/a" : String.format(Locale.ROOT, "%.2f", e.testTop1())
            + " %", ProgressBar.time(e.seconds()));
  }
}
