package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.qlimit.model.Architectures;
import org.qlimit.nn.Model;
import org.qlimit.nn.Unit;

/**
 * Which activation sites stay at 8 bits (ALGORITHMS.md §5): QDrop's classifier input; BRECQ's
 * first-layer output and the penultimate layer's own output quantizer, which exists only where
 * the penultimate layer is not a conv feeding a residual addition.
 */
class ActBitsTest {

  private static List<String> eightBit(Model m, Method method) {
    List<String> sites = new ArrayList<>();
    for (Unit u : m.units()) {
      for (String s : u.actSites()) {
        if (BitWidths.actBits(m, method, s, 4) == 8) {
          sites.add(s);
        }
      }
    }
    return sites;
  }

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "resnet20-fmnist; conv1; layer3.2",
      "resnet20; conv1; layer3.2",
      "regnetx-small-fmnist; stem; trunk_output.block3.block3-1",
      "mobilenetv2-small-fmnist; features.0 features.7; features.7",
      "mnasnet-small-fmnist; layers.0 layers.12; layers.12"})
  void eightBitSites(String arch, String brecq, String qdrop) {
    Model m = Architectures.get(arch).build(
        Architectures.get(arch).fresh(new SplittableRandom(1)), true);
    assertThat(eightBit(m, Method.BRECQ)).containsExactly(brecq.split(" "));
    assertThat(eightBit(m, Method.RTN)).isEqualTo(eightBit(m, Method.BRECQ));
    assertThat(eightBit(m, Method.ADAROUND)).isEqualTo(eightBit(m, Method.BRECQ));
    assertThat(eightBit(m, Method.QDROP)).containsExactly(qdrop.split(" "));
  }
}
