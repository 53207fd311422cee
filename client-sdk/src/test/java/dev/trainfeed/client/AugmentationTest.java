package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** The public augmentation builder: eager validation, and the request it puts on the wire. */
class AugmentationTest {
  @Test
  void builderRejectsBadSettingsAtOnce() {
    Augmentation.Builder b = Augmentation.builder();
    assertThatThrownBy(() -> b.horizontalFlip(1.5)).hasMessageContaining(
        "horizontalFlip probability must be in [0, 1], was 1.5");
    assertThatThrownBy(() -> b.rotation(0.5, 200)).hasMessageContaining("maxDegrees");
    assertThatThrownBy(() -> b.crop(0.5, -1)).hasMessageContaining("crop padding must be >= 0");
    assertThatThrownBy(() -> b.noise(0.5, 2)).hasMessageContaining("noise stddev");
    assertThatThrownBy(() -> b.cutout(0.5, 0)).hasMessageContaining("cutout size");
    assertThatThrownBy(() -> b.normalize(new double[] {0}, new double[] {0}))
        .hasMessageContaining("std must be finite and non-zero");
    assertThatThrownBy(() -> b.layout("NCHW")).hasMessageContaining("HWC, CHW or HW");
    assertThatThrownBy(() -> b.autoencoder("ae", "blend", 0.5, 0.1)).hasMessageContaining(
        "perturb or interpolate");
  }

  @Test
  void streamRequestCarriesTheAugmentSpec() throws IOException {
    try (InProcessFixture fixture = new InProcessFixture(10);
        TrainFeedClient client = fixture.client()) {
      Augmentation aug = Augmentation.builder().field("x").layout("hw").horizontalFlip(0.5)
          .rotation(0.25, 10).crop(1, 2).noise(0.1, 0.05).brightnessContrast(0.2, 0.1, 0.3)
          .cutout(0.3, 4).normalize(new double[] {0.5}, new double[] {0.25}, 255)
          .autoencoder("ae", "Perturb", 0.1, 0.5).build();
      try (BatchIterator it = client.batches("toy").batchSize(4).augment(aug).open()) {
        it.hasNext();
      }
      StreamBatchesRequest r = fixture.service.requests.get(0);
      AugmentSpec s = r.getAugment();
      assertThat(s.getField()).isEqualTo("x");
      assertThat(s.getLayout()).isEqualTo("HW");
      assertThat(s.getHorizontalFlip().getProbability()).isEqualTo(0.5);
      assertThat(s.getRotation().getMaxDegrees()).isEqualTo(10);
      assertThat(s.getCrop().getPadding()).isEqualTo(2);
      assertThat(s.getNoise().getStddev()).isEqualTo(0.05);
      assertThat(s.getBrightnessContrast().getContrast()).isEqualTo(0.3);
      assertThat(s.getCutout().getSize()).isEqualTo(4);
      assertThat(s.getNormalize().getEnabled()).isTrue();
      assertThat(s.getNormalize().getMeanList()).containsExactly(0.5);
      assertThat(s.getNormalize().getStdList()).containsExactly(0.25);
      assertThat(s.getNormalize().getScale()).isEqualTo(255);
      assertThat(s.getAutoencoder().getMode()).isEqualTo("perturb");
      assertThat(s.getAutoencoder().getModel()).isEqualTo("ae");
    }
  }

  @Test
  void withoutAugmentTheRequestHasNone() throws IOException {
    try (InProcessFixture fixture = new InProcessFixture(10);
        TrainFeedClient client = fixture.client()) {
      try (BatchIterator it = client.batches("toy").batchSize(4).open()) {
        it.hasNext();
      }
      assertThat(fixture.service.requests.get(0).hasAugment()).isFalse();
    }
  }
}
