package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The synthesis builders fail at once, saying what to change. */
class SynthesizeBuilderTest {

  @Test
  void synthesizeBuilderValidatesEagerly() {
    try (TrainFeedClient client = TrainFeedClient.builder().target("localhost:1").build()) {
      assertThatThrownBy(() -> client.synthesize(" ")).hasMessageContaining("non-empty");
      SynthesizeBuilder b = client.synthesize("digits-cgan");
      assertThatThrownBy(b::open).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("count(n) and batchSize(n)");
      assertThatThrownBy(() -> b.count(0)).hasMessageContaining(">= 1");
      assertThatThrownBy(() -> b.batchSize(0)).hasMessageContaining(">= 1");
      assertThatThrownBy(() -> b.classLabel(-1)).hasMessageContaining(">= 0");
      assertThatThrownBy(() -> b.prefetch(2000)).hasMessageContaining("between 1 and 1024");
      assertThatThrownBy(() -> b.resumeFrom(null)).hasMessageContaining("omit resumeFrom");
      assertThatThrownBy(b.count(1)::open).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void syntheticMixIsValidatedWhereItIsSet() {
    try (TrainFeedClient client = TrainFeedClient.builder().target("localhost:1").build()) {
      BatchStreamBuilder b = client.batches("digits");
      assertThatThrownBy(() -> b.synthetic("", 0.25)).hasMessageContaining("client.models()");
      assertThatThrownBy(() -> b.synthetic("m", 1.0)).hasMessageContaining("[0, 1)");
      assertThatThrownBy(() -> b.synthetic("m", Double.NaN)).hasMessageContaining("[0, 1)");
      assertThatThrownBy(() -> b.synthetic("m", -0.1)).hasMessageContaining("[0, 1)");
    }
  }
}
