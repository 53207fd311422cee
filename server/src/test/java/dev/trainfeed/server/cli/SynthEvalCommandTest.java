package dev.trainfeed.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainfeed.server.synth.BundledModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** synth-eval on the bundled GAN and the bundled digits: better than noise, a real picture. */
class SynthEvalCommandTest {
  @TempDir Path tmp;

  @Test
  void theBundledGanBeatsUniformNoiseAndDrawsAGrid() throws Exception {
    Path data = tmp.resolve("data");
    assertThat(Main.run(new String[] {"ingest", "--data-dir", data.toString(), "--name", "digits",
        "--npy", Path.of("..", "data", "digits").toString(), "--chunk-size", "4k", "--quiet"},
        Map.of())).isZero();
    StringWriter out = new StringWriter();
    Path png = tmp.resolve("grid.png");
    int rc = new CommandLine(new SynthEvalCommand()).setOut(new PrintWriter(out)).execute(
        "--model", BundledModels.GAN, "--dataset", "digits", "--data-dir", data.toString(),
        "--models", BundledModels.source().toString(), "--count", "300", "--out", png.toString());
    assertThat(rc).isZero();
    String json = out.toString().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow();
    JsonNode r = new ObjectMapper().readTree(json);
    double gan = r.get("generated_digits-cgan_mmd").asDouble();
    double noise = r.get("uniform_noise_mmd").asDouble();
    double real = r.get("real_other_split_mmd").asDouble();
    assertThat(gan).isLessThan(noise / 2);
    assertThat(real).isLessThan(gan);
    assertThat(r.get("generated_digits-cgan_precision").asDouble())
        .isGreaterThan(r.get("uniform_noise_precision").asDouble() + 0.2);
    assertThat(Files.size(png)).isPositive();
    assertThat(ImageIO.read(png.toFile()).getWidth()).isEqualTo(10 * 33 + 1);
  }
}
