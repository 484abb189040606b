package org.qlimit.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * PNG pictures of mixed-precision runs, drawn headless with JFreeChart: accuracy against model
 * size, and per-layer weight bit widths.
 */
final class MixedPlots {
  private MixedPlots() {}

  /** One evaluated model: a label, its weight size in MB and its top-1 (%). */
  record Point(String label, double sizeMb, double top1) {}

  static {
    System.setProperty("java.awt.headless", "true");
  }

  /** Per-layer widths, one bar series per assignment (label → layer → bits, layers in order). */
  static JFreeChart bitsChart(String title, List<String> layers,
      Map<String, Map<String, Integer>> assignments) {
    DefaultCategoryDataset ds = new DefaultCategoryDataset();
    for (Map.Entry<String, Map<String, Integer>> e : assignments.entrySet()) {
      for (String l : layers) {
        ds.addValue(e.getValue().get(l), e.getKey(), l);
      }
    }
    JFreeChart c = ChartFactory.createBarChart(title, "layer", "weight bits", ds,
        PlotOrientation.VERTICAL, true, false, false);
    c.getCategoryPlot().getDomainAxis().setCategoryLabelPositions(
        CategoryLabelPositions.UP_90);
    c.getCategoryPlot().setBackgroundPaint(Color.WHITE);
    c.getCategoryPlot().setRangeGridlinePaint(Color.GRAY);
    return c;
  }

  /** Top-1 against size: the uniform points and the mixed points as two lines. */
  static JFreeChart accuracyChart(String title, List<Point> uniform, List<Point> mixed) {
    XYSeries u = new XYSeries("uniform");
    for (Point p : uniform) {
      u.add(p.sizeMb(), p.top1());
    }
    XYSeries m = new XYSeries("mixed precision");
    for (Point p : mixed) {
      m.add(p.sizeMb(), p.top1());
    }
    XYSeriesCollection ds = new XYSeriesCollection();
    ds.addSeries(u);
    ds.addSeries(m);
    JFreeChart c = ChartFactory.createXYLineChart(title, "weight size (MB)", "top-1 (%)", ds,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = c.getXYPlot();
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
    r.setSeriesStroke(0, new BasicStroke(2f));
    r.setSeriesStroke(1, new BasicStroke(2f));
    plot.setRenderer(r);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.GRAY);
    plot.setRangeGridlinePaint(Color.GRAY);
    ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
    return c;
  }

  /** Writes charts side by side into one PNG, each {@code w} × {@code h} pixels. */
  static void write(Path png, int w, int h, JFreeChart... charts) throws IOException {
    BufferedImage img = new BufferedImage(w * charts.length, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    for (int i = 0; i < charts.length; i++) {
      charts[i].draw(g, new Rectangle2D.Double(i * w, 0, w, h));
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }
}
