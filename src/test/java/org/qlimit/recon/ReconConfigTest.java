package org.qlimit.recon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import org.junit.jupiter.api.Test;
import org.qlimit.util.Hashing;

/** Named construction of the reconstruction settings, and their digest (the checkpoint key). */
class ReconConfigTest {

  private static String digest(ReconConfig c) {
    MessageDigest md = Hashing.sha256();
    c.updateDigest(md);
    return Hashing.hex(md.digest());
  }

  @Test
  void builderHoldsTheSpecificationDefaults() {
    ReconConfig c = ReconConfig.builder(Method.QDROP, 2, 4).build();
    assertThat(c.iters()).isEqualTo(20_000);
    assertThat(c.itersAct()).isEqualTo(5_000);
    assertThat(c.batchSize()).isEqualTo(32);
    assertThat(c.keepProb()).isEqualTo(0.5f);
    assertThat(c.roundLambda()).isEqualTo(0.01);
    assertThat(c.lrActQdrop()).isEqualTo(4e-5f);
    assertThat(c.toBuilder().build()).isEqualTo(c);
    assertThat(ReconConfig.defaults(Method.BRECQ, 2, 4, 100))
        .isEqualTo(ReconConfig.builder(Method.BRECQ, 2, 4).iters(100).itersAct(25).build());
  }

  @Test
  void digestChangesWithEverySettingAndOnlyWithThem() {
    ReconConfig c = ReconConfig.defaults(Method.QDROP, 2, 4, 100);
    assertThat(digest(c)).isEqualTo(digest(c.toBuilder().build()));
    ReconConfig[] others = {c.withKeepProb(0.75f), c.withSeed(7), c.withIters(100, 26),
        c.withRoundLambda(0.1), c.toBuilder().batchSize(16).build(),
        c.toBuilder().lrActQdrop(4.0001e-5f).build(), c.toBuilder().qdropActImages(255).build(),
        ReconConfig.defaults(Method.BRECQ, 2, 4, 100),
        ReconConfig.defaults(Method.QDROP, 3, 4, 100)};
    for (ReconConfig o : others) {
      assertThat(digest(o)).as("%s", o).isNotEqualTo(digest(c));
    }
  }

  @Test
  void outOfRangeSettingsNameTheOption() {
    assertThatThrownBy(() -> ReconConfig.builder(Method.QDROP, 2, 4).keepProb(1.5f).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--keep-prob");
    assertThatThrownBy(() -> ReconConfig.builder(Method.QDROP, 9, 4).build())
        .hasMessageContaining("--wbits");
  }
}
