package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BuilderValidationTest {

  @Test
  void clientBuilderFailsAtOnceSayingWhatToChange() {
    TrainFeedClient.Builder b = TrainFeedClient.builder();
    assertThatThrownBy(b::build).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("target(\"host:port\")");
    assertThatThrownBy(() -> b.target("localhost")).hasMessageContaining("\"localhost:7070\"");
    assertThatThrownBy(() -> b.target("host:99999")).hasMessageContaining("port from 1 to 65535");
    assertThatThrownBy(() -> b.target("a b:1")).hasMessageContaining("without spaces");
    assertThatThrownBy(() -> b.targets(List.of())).hasMessageContaining("at least one");
    assertThatThrownBy(() -> b.maxInboundMessageBytes(1000)).hasMessageContaining(">= 1 MiB");
    assertThatThrownBy(() -> b.bearerToken("Bearer x")).hasMessageContaining("without \"Bearer \"");
    assertThatThrownBy(() -> b.reconnectAttempts(-1)).hasMessageContaining(">= 0");
    assertThatThrownBy(() -> b.backoff(Duration.ZERO, Duration.ofSeconds(1)))
        .hasMessageContaining("0 < initial <= max");
    assertThatThrownBy(() -> b.backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    b.target("[::1]:7070").target("dns:///trainfeed:7070").targets(List.of("a:1", "b:2"));
  }

  @Test
  void streamBuilderFailsAtOnceSayingWhatToChange() {
    try (TrainFeedClient client = TrainFeedClient.builder().target("localhost:1").build()) {
      assertThatThrownBy(() -> client.batches(" ")).hasMessageContaining("non-empty");
      BatchStreamBuilder b = client.batches("toy");
      assertThatThrownBy(b::open).isInstanceOf(IllegalStateException.class)
          .hasMessage("call batchSize(n) before open()");
      assertThatThrownBy(() -> b.batchSize(0)).hasMessageContaining(">= 1");
      assertThatThrownBy(() -> b.prefetch(0)).hasMessageContaining("between 1 and 1024");
      assertThatThrownBy(() -> b.prefetch(1025)).hasMessageContaining("between 1 and 1024");
      assertThatThrownBy(() -> b.shard(2, 2)).hasMessageContaining("rank 2 of 2");
      assertThatThrownBy(() -> b.shard(0, 0)).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> b.epoch(-1)).hasMessageContaining(">= 0");
      assertThatThrownBy(() -> b.epochs(0)).hasMessageContaining(">= 1");
      assertThatThrownBy(() -> b.fields("a", "a")).hasMessageContaining("distinct");
      assertThatThrownBy(() -> b.fields("")).hasMessageContaining("non-empty");
      assertThatThrownBy(() -> b.shuffleWindow(0)).hasMessageContaining(">= 1 chunk");
      assertThatThrownBy(() -> b.resumeFrom(null)).isInstanceOf(IllegalArgumentException.class);
      assertThat(b.batchSize(1).shard(1, 2).prefetch(1024)).isSameAs(b);
    }
  }
}
