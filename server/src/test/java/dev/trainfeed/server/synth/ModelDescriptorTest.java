package dev.trainfeed.server.synth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Descriptors: the bundled ones parse; mistakes are named. */
class ModelDescriptorTest {
  private static ModelDescriptor parse(String yaml) {
    return ModelDescriptor.parse(yaml.getBytes(StandardCharsets.UTF_8), Path.of("d.yaml"));
  }

  private static String gan() throws Exception {
    return Files.readString(BundledModels.source().resolve(BundledModels.GAN)
        .resolve(ModelRegistry.DESCRIPTOR));
  }

  @Test
  void bundledDescriptorsParse() throws Exception {
    ModelDescriptor d = parse(gan());
    assertThat(d.latentDim()).isEqualTo(32);
    assertThat(d.conditioning().numClasses()).isEqualTo(10);
    assertThat(d.field().fieldHigh()).isEqualTo(16);
    ModelDescriptor v = parse(Files.readString(BundledModels.source().resolve(BundledModels.VAE)
        .resolve(ModelRegistry.DESCRIPTOR)));
    assertThat(v.kind()).isEqualTo(ModelDescriptor.Kind.VAE);
    assertThat(v.files()).containsExactly("decoder.onnx", "encoder.onnx");
  }

  @Test
  void mistakesNameTheKey() throws Exception {
    assertThatThrownBy(() -> parse(gan().replace("kind: gan", "kind: flow")))
        .hasMessageContaining("kind must be gan, vae or ae");
    assertThatThrownBy(() -> parse(gan().replace("latent_dim: 32", "latent_dim: 0")))
        .hasMessageContaining("latent_dim must be an integer");
    assertThatThrownBy(() -> parse(gan().replace("dtype: uint8", "dtype: float16")))
        .hasMessageContaining("field.dtype");
    assertThatThrownBy(() -> parse(gan().replace("model_range: [-1.0, 1.0]",
        "model_range: [1.0, -1.0]"))).hasMessageContaining("field.model_range");
    assertThatThrownBy(() -> parse(gan() + "\nextra: 1\n"))
        .hasMessageContaining("extra is not a descriptor key");
    assertThatThrownBy(() -> parse(gan().replace("  class_input: label", "")))
        .hasMessageContaining("generator.class_input");
  }

  @Test
  void rangeMappingRoundsHalfUpAndClamps() throws Exception {
    ValueMapping m = new ValueMapping(parse(gan()).field());
    assertThat(m.toField(-1f)).isEqualTo(0);
    assertThat(m.toField(1f)).isEqualTo(16);
    assertThat(m.toField(2f)).isEqualTo(16);
    assertThat(m.toField(-0.9375f)).isEqualTo(1); // 0.5 rounds up
    assertThat(m.toField(Float.NaN)).isEqualTo(0);
    assertThat(m.toModel(8)).isEqualTo(0f);
  }
}
