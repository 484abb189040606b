package org.qlimit.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.qlimit.cli.Main;
import org.qlimit.model.Architectures;
import org.qlimit.recon.Method;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.ReconConfig;
import org.qlimit.recon.UnitRecord;
import org.qlimit.testing.Embedded;
import org.qlimit.testing.QuietTest;

/**
 * The library run on the embedded ResNet-20 at a tiny budget: without an output folder it writes
 * nothing and still returns the state, records, hash, result and manifest; {@code qlimit
 * quantize} with the same settings writes that result and manifest; the settings default from
 * the architecture; a run that differs only in activation bits can reuse an AdaRound or BRECQ
 * weight phase with unchanged bits; bad settings are named.
 */
class QuantizationRunTest extends QuietTest {
  private static final ObjectMapper OM = new ObjectMapper();

  private static QuantizationRun.Builder tiny() {
    return QuantizationRun.builder(Embedded.RESNET20, "resnet20-fmnist", "fashion-mnist")
        .method(Method.QDROP, 2, 4).iters(1).calibration(8).evalLimit(10).threads(2);
  }

  @Test
  void aRunWithoutAnOutputFolderWritesNothingAndTheCommandWritesTheSameResults(@TempDir Path dir)
      throws Exception {
    List<String> steps = new ArrayList<>();
    RunListener l = new RunListener() {
      @Override
      public void step(String step) {
        steps.add(step);
      }
    };
    QuantizationRun.Result mem = tiny().listener(l).build().run();
    assertThat(mem.out()).isNull();
    assertThat(mem.resultFile()).isNull();
    assertThat(steps).containsExactly("preparing the run", "reconstructing", "evaluating",
        "writing the results");
    assertThat(mem.quantizedSha256()).isEqualTo(QuantExport.sha256(mem.state())).hasSize(64);
    assertThat(mem.records()).isNotEmpty();
    assertThat(mem.evalImages()).isEqualTo(10);
    JsonNode result = OM.readTree(mem.resultJson());
    assertThat(result.get("quantized_sha256").asText()).isEqualTo(mem.quantizedSha256());
    assertThat(result.get("units")).hasSize(mem.records().size());
    JsonNode manifest = OM.readTree(mem.manifestJson());
    assertThat(manifest.at("/config/recon/roundLambda").asDouble()).isEqualTo(0.01);
    assertThat(manifest.at("/checksums/model_sha256").asText()).hasSize(64);

    // the command is a wrapper over the same run: same result.json, and the manifest
    Path out = dir.resolve("run");
    PrintStream before = System.out;
    int code;
    try {
      System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      code = Main.execute("quantize", "--model", Embedded.RESNET20.toString(), "--arch",
          "resnet20-fmnist", "--data", "fashion-mnist", "--method", "qdrop", "--wbits", "2",
          "--abits", "4", "--iters", "1", "--calib", "8", "--eval-limit", "10", "--threads", "1",
          "--out", out.toString());
    } finally {
      System.setOut(before);
    }
    assertThat(code).isZero();
    assertThat(withoutSeconds(OM.readTree(out.resolve("result.json").toFile())))
        .isEqualTo(withoutSeconds(result));
    JsonNode written = OM.readTree(out.resolve("manifest.json").toFile());
    ((ObjectNode) written.get("environment")).remove("threads");
    ((ObjectNode) manifest.get("environment")).remove("threads");
    assertThat(written).isEqualTo(manifest);
    assertThat(out.resolve("quantized.safetensors")).isRegularFile();
    assertThat(out.resolve(RunCheckpoint.FILE)).doesNotExist();
  }

  private static JsonNode withoutSeconds(JsonNode n) {
    ObjectNode c = ((ObjectNode) n).deepCopy();
    c.remove("seconds");
    c.withArray("units").forEach(u -> ((ObjectNode) u).remove("seconds"));
    return c;
  }

  @Test
  void lambdaDefaultsFromTheArchitectureUnlessGiven() {
    Path mb = Path.of("datasets/models/mobilenetv2_small_fmnist.safetensors");
    QuantizationRun.Builder b = QuantizationRun.builder(mb, "mobilenetv2-small-fmnist",
        "fashion-mnist").method(Method.BRECQ, 4, 4).iters(8);
    assertThat(b.build().recon().roundLambda())
        .isEqualTo(Architectures.MOBILENET_ROUND_LAMBDA);
    assertThat(b.roundLambda(0.05).build().recon().roundLambda()).isEqualTo(0.05);
    ReconConfig rc = b.build().recon();
    assertThat(rc.iters()).isEqualTo(8);
    assertThat(rc.itersAct()).isEqualTo(2);
    assertThat(rc.seed()).isEqualTo(1005);
  }

  /**
   * AdaRound's and BRECQ's weight phase reads no activation bits: a W2A2 run that starts from the
   * W2A4 run's phase learns only its activations and ends with the bits of a W2A2 run from
   * scratch; a phase of other settings is refused.
   */
  @Test
  void aRunDifferingOnlyInActivationBitsReusesTheWeightPhaseWithTheSameBits() throws Exception {
    for (Method m : new Method[] {Method.ADAROUND, Method.BRECQ}) {
      QuantizationRun.Result a4 = tiny().method(m, 2, 4).iters(2).build().run();
      WeightPhase phase = a4.weightPhase();
      assertThat(phase).as("%s weight phase", m).isNotNull();
      assertThat(phase.abits()).isEqualTo(4);
      assertThat(phase.records()).isNotEmpty().allMatch(r -> r.phase().equals(
          m == Method.BRECQ ? "weights" : "layer"));
      assertThat(a4.records()).startsWith(phase.records().toArray(new UnitRecord[0]));

      QuantizationRun.Result scratch = tiny().method(m, 2, 2).iters(2).build().run();
      QuantizationRun.Result reused = tiny().method(m, 2, 2).iters(2).reuseWeightPhase(phase)
          .build().run();
      assertThat(reused.quantizedSha256()).as("%s W2A2", m)
          .isEqualTo(scratch.quantizedSha256()).isNotEqualTo(a4.quantizedSha256());
      assertThat(reused.top1()).isEqualTo(scratch.top1());
      assertThat(reused.resumedUnits()).isEqualTo(phase.records().size());
      assertThat(reused.weightPhase()).isSameAs(phase);
      assertThat(OM.readTree(reused.resultJson()).get("weight_phase_reused_from_abits").asInt())
          .isEqualTo(4);
      assertThat(OM.readTree(scratch.resultJson()).has("weight_phase_reused_from_abits"))
          .isFalse();
      if (m == Method.BRECQ) {
        // the activation phase ran again, with the W2A2 quantizers
        assertThat(reused.records().subList(phase.records().size(), reused.records().size()))
            .isNotEmpty().allMatch(r -> r.phase().equals("activations"));
      }
    }
    assertThat(tiny().build().run().weightPhase()).as("QDrop has no weight phase").isNull();

    WeightPhase brecq = tiny().method(Method.BRECQ, 2, 4).iters(2).build().run().weightPhase();
    assertThatThrownBy(() -> tiny().method(Method.BRECQ, 3, 4).iters(2).reuseWeightPhase(brecq)
        .build().run()).isInstanceOf(QuantizationRun.InputMismatch.class)
        .hasMessageContaining("only the activation bits may differ");
    assertThatThrownBy(() -> tiny().method(Method.BRECQ, 2, 2).iters(2).calibration(9)
        .reuseWeightPhase(brecq).build().run())
        .hasMessageContaining("only the activation bits may differ");
    assertThatThrownBy(() -> tiny().method(Method.ADAROUND, 2, 4).iters(2).reuseWeightPhase(brecq)
        .build().run()).hasMessageContaining("only the activation bits may differ");
    assertThatThrownBy(() -> tiny().out(Path.of("unused")).resume(true).reuseWeightPhase(brecq)
        .build()).hasMessageContaining("resume and reuseWeightPhase exclude each other");
  }

  @Test
  void badSettingsAreNamed() {
    assertThatThrownBy(() -> QuantizationRun.builder(Embedded.RESNET20, "resnet20-fmnist",
        "fashion-mnist").build()).hasMessageContaining("method is required");
    assertThatThrownBy(() -> tiny().recon(ReconConfig.defaults(Method.RTN, 4, 4, 1)).build())
        .hasMessageContaining("either recon(...) or method");
    assertThatThrownBy(() -> tiny().resume(true).build())
        .hasMessageContaining("resume needs the output folder");
    assertThatThrownBy(() -> tiny().calibration(5001).build().run())
        .isInstanceOf(QuantizationRun.InputMismatch.class)
        .hasMessageStartingWith("--calib 5001 exceeds the 5000 training images");
    assertThatThrownBy(() -> QuantizationRun.builder(Path.of("no-such.safetensors"),
        "resnet20-fmnist", "fashion-mnist").method(Method.RTN, 4, 4).build().run())
        .hasMessage("model file not found: no-such.safetensors");
  }
}
