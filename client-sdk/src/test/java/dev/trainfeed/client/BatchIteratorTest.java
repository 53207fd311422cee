package dev.trainfeed.client;

import static dev.trainfeed.client.Drained.drain;
import static dev.trainfeed.client.Drained.ids;
import static dev.trainfeed.client.Drained.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.FakeDataPlane.Failure;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchIteratorTest {
  private InProcessFixture fixture;
  private TrainFeedClient client;

  @BeforeEach
  void setUp() throws IOException {
    fixture = new InProcessFixture(10);
    client = fixture.client();
  }

  @AfterEach
  void tearDown() {
    client.close();
    fixture.close();
  }

  @Test
  void oneEpochDeliversEveryBatchInOrderWithTypedViews() {
    List<Batch> batches;
    try (BatchIterator it = client.batches("toy").batchSize(4).open()) {
      batches = drain(it);
      assertThat(it.lastResumeToken()).contains(batches.get(2).resumeToken());
    }
    assertThat(batches).extracting(Batch::index).containsExactly(0L, 1L, 2L);
    assertThat(batches).extracting(Batch::size).containsExactly(4, 4, 2);
    assertThat(ids(batches)).containsExactly(LongStream.range(0, 10).toArray());
    Batch last = batches.get(2);
    assertThat(last.tensor("x").shape()).containsExactly(2, 2);
    assertThat(last.tensor("x").toFloatArray()).containsExactly(8f, 8.5f, 9f, 9.5f);
    assertThat(last.tensor("label").toLongArray()).containsExactly(2L, 0L);
    assertThat(last.isSynthetic(1)).isFalse();
    assertThat(last.isPadding(1)).isFalse();
    assertThat(last.resumeToken().epoch()).hasValue(0);
    assertThat(new String(last.resumeToken().toBytes(), StandardCharsets.UTF_8)).isEqualTo("e0:3");
    StreamBatchesRequest request = fixture.service.requests.get(0);
    assertThat(request.getDataset()).isEqualTo("toy");
    assertThat(request.getBatchSize()).isEqualTo(4);
    assertThat(request.getWorldSize()).isEqualTo(1);
    assertThat(request.getResumeToken().isEmpty()).isTrue();
  }

  @Test
  void requestCarriesEveryStreamSetting() {
    try (BatchIterator it = client.batches("toy").batchSize(3).shuffle(42L).epoch(5)
        .shard(1, 4).fields("x").dropLast(true).shuffleWindow(8).open()) {
      it.hasNext();
    }
    StreamBatchesRequest r = fixture.service.requests.get(0);
    assertThat(r.getShuffle()).isTrue();
    assertThat(r.getSeed()).isEqualTo(42L);
    assertThat(r.getEpoch()).isEqualTo(5L);
    assertThat(r.getRank()).isEqualTo(1);
    assertThat(r.getWorldSize()).isEqualTo(4);
    assertThat(r.getFieldsList()).containsExactly("x");
    assertThat(r.getDropLast()).isTrue();
    assertThat(r.getShuffleWindow()).isEqualTo(8);
  }

  @Test
  void severalEpochsAreOneCallEach() {
    List<Batch> batches;
    try (BatchIterator it = client.batches("toy").batchSize(5).epoch(2).epochs(3).open()) {
      batches = drain(it);
    }
    assertThat(batches).extracting(Batch::epoch).containsExactly(2L, 2L, 3L, 3L, 4L, 4L);
    assertThat(batches).extracting(Batch::index).containsExactly(0L, 1L, 0L, 1L, 0L, 1L);
    assertThat(fixture.service.requests).extracting(StreamBatchesRequest::getEpoch)
        .containsExactly(2L, 3L, 4L);
    assertThat(fixture.service.requests).allMatch(r -> r.getResumeToken().isEmpty());
  }

  @Test
  void prefetchBoundsTheBatchesTheServerMaySend() throws Exception {
    try (InProcessFixture big = new InProcessFixture(100);
         TrainFeedClient c = big.client();
         BatchIterator it = c.batches("toy").batchSize(1).prefetch(3).open()) {
      for (int consumed = 0; consumed < 20; consumed++) {
        awaitSent(big, consumed + 3);
        Thread.sleep(5);
        assertThat(big.service.sent.get()).isEqualTo(consumed + 3);
        assertThat(it.next().index()).isEqualTo(consumed);
      }
    }
  }

  private static void awaitSent(InProcessFixture f, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (f.service.sent.get() < expected && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
  }

  @Test
  void reconnectsAfterUnavailableWithTheLastHandedOutToken() {
    fixture.service.failures.add(new Failure(2, Status.UNAVAILABLE.withDescription("draining")));
    List<Batch> batches;
    try (BatchIterator it = client.batches("toy").batchSize(2).open()) {
      batches = drain(it);
    }
    assertThat(ids(batches)).containsExactly(LongStream.range(0, 10).toArray());
    assertThat(batches).extracting(Batch::index).containsExactly(0L, 1L, 2L, 3L, 4L);
    assertThat(fixture.service.requests).extracting(Drained::token)
        .containsExactly("", "e0:2");
    assertThat(fixture.sleeps).containsExactly(Duration.ofMillis(100));
  }

  @Test
  void reconnectsBeforeTheFirstBatchWithTheOriginalToken() {
    fixture.service.failures.add(new Failure(0, Status.UNAVAILABLE));
    fixture.service.failures.add(new Failure(0, Status.DEADLINE_EXCEEDED));
    List<Batch> batches;
    try (BatchIterator it = client.batches("toy").batchSize(4).epoch(1)
        .resumeFrom(ResumeToken.fromBytes("e1:1".getBytes(StandardCharsets.UTF_8))).open()) {
      batches = drain(it);
    }
    assertThat(batches).extracting(Batch::index).containsExactly(1L, 2L);
    assertThat(fixture.service.requests).extracting(Drained::token)
        .containsExactly("e1:1", "e1:1", "e1:1");
    assertThat(fixture.sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void connectionResetUnderInternalIsRetriedOtherInternalIsNot() {
    fixture.service.failures.add(new Failure(1,
        Status.INTERNAL.withDescription("RST_STREAM closed stream. HTTP/2 error code: CANCEL")));
    fixture.service.failures.add(new Failure(1,
        Status.CANCELLED.withDescription("RST_STREAM closed stream. HTTP/2 error code: CANCEL")));
    fixture.service.failures.add(new Failure(0,
        Status.UNKNOWN.withDescription("Connection closed after GOAWAY")));
    try (BatchIterator it = client.batches("toy").batchSize(2).open()) {
      assertThat(ids(drain(it))).containsExactly(LongStream.range(0, 10).toArray());
    }
    assertThat(fixture.sleeps).hasSize(3);
    fixture.service.failures.add(new Failure(1, Status.INTERNAL.withDescription("bug")));
    try (BatchIterator it = client.batches("toy").batchSize(5).open()) {
      assertThat(it.next().index()).isZero();
      assertThatThrownBy(it::hasNext).isInstanceOfSatisfying(TrainFeedException.class,
          e -> assertThat(e.code()).isEqualTo(TrainFeedException.Code.INTERNAL));
      assertThat(it.hasNext()).isFalse();
    }
  }

  @Test
  void givesUpAfterReconnectAttemptsWithGrowingBackoff() throws Exception {
    for (int i = 0; i < 10; i++) {
      fixture.service.failures.add(new Failure(0, Status.UNAVAILABLE.withDescription("down")));
    }
    try (TrainFeedClient c = fixture.clientBuilder().reconnectAttempts(4)
            .backoff(Duration.ofMillis(100), Duration.ofMillis(500)).build();
         BatchIterator it = c.batches("toy").batchSize(5).open()) {
      assertThatThrownBy(it::next).isInstanceOfSatisfying(TrainFeedException.class, e -> {
        assertThat(e.code()).isEqualTo(TrainFeedException.Code.UNAVAILABLE);
        assertThat(e.serverMessage()).startsWith("down").contains("gave up after 4 reconnect");
      });
    }
    assertThat(fixture.sleeps).extracting(Duration::toMillis).containsExactly(100L, 200L, 400L, 500L);
    assertThat(fixture.service.requests).hasSize(5);
  }

  @Test
  void nonRetriableStatusBecomesTrainFeedExceptionWithCodeAndMessage() {
    try (BatchIterator it = client.batches("nope").batchSize(5).open()) {
      assertThatThrownBy(it::hasNext).isInstanceOfSatisfying(TrainFeedException.class, e -> {
        assertThat(e.code()).isEqualTo(TrainFeedException.Code.NOT_FOUND);
        assertThat(e.serverMessage()).isEqualTo("no dataset 'nope'");
        assertThat(e).hasMessage("NOT_FOUND: no dataset 'nope'");
      });
      assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }
    assertThat(fixture.sleeps).isEmpty();
  }

  @Test
  void closeCancelsTheServerCall() throws Exception {
    try (InProcessFixture big = new InProcessFixture(1000); TrainFeedClient c = big.client()) {
      BatchIterator it = c.batches("toy").batchSize(1).prefetch(2).open();
      it.next();
      assertThat(it.hasNext()).isTrue();
      it.close();
      assertThat(big.service.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(it.hasNext()).isFalse();
      assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
    }
  }

  @Test
  void closeFromAnotherThreadWakesABlockedConsumer() throws Exception {
    fixture.service.failures.add(new Failure(1, null));
    BatchIterator it = client.batches("toy").batchSize(1).open();
    assertThat(it.next().index()).isZero();
    Thread closer = new Thread(() -> {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      it.close();
    });
    closer.start();
    assertThat(it.hasNext()).isFalse();
    closer.join();
    assertThat(fixture.service.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void bearerTokenIsSentWithEveryCall() throws Exception {
    try (TrainFeedClient c = fixture.clientBuilder().bearerToken("s3cret").build()) {
      c.datasets();
      try (BatchIterator it = c.batches("toy").batchSize(10).open()) {
        drain(it);
      }
    }
    Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    assertThat(fixture.headers).hasSize(2).allSatisfy(md ->
        assertThat(md.get(auth)).isEqualTo("Bearer s3cret"));
  }

  @Test
  void noAuthorizationHeaderWithoutToken() {
    client.datasets();
    Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    assertThat(fixture.headers.get(0).get(auth)).isNull();
  }

  @Test
  void resumeFromABatchTokenContinuesItsEpochThenCountsEpochsFromThere() {
    ResumeToken token;
    try (BatchIterator it = client.batches("toy").batchSize(4).epoch(3).open()) {
      it.next();
      token = it.lastResumeToken().orElseThrow();
    }
    List<Batch> batches;
    try (BatchIterator it = client.batches("toy").batchSize(4).epochs(2).resumeFrom(token).open()) {
      batches = drain(it);
    }
    assertThat(batches).extracting(b -> b.epoch() + "/" + b.index())
        .containsExactly("3/1", "3/2", "4/0", "4/1", "4/2");
    assertThat(fixture.service.requests.subList(1, 3)).extracting(r -> r.getEpoch() + token(r))
        .containsExactly("3e3:1", "4");
  }

  @Test
  void resumeFromTheLastTokenOfAnEpochMovesToTheNextEpoch() {
    ResumeToken last = ResumeToken.parse(ResumeToken.fromBytes(
        "e0:3".getBytes(StandardCharsets.UTF_8)).toString());
    try (BatchIterator it = client.batches("toy").batchSize(4).epochs(2).resumeFrom(last).open()) {
      assertThat(drain(it)).extracting(Batch::epoch).containsExactly(1L, 1L, 1L);
    }
  }

  @Test
  void epochContradictingTheTokenIsRefusedAtOpen() {
    ResumeToken token = ResumeToken.fromBytes(new byte[] {1}).withEpoch(2);
    assertThatThrownBy(() -> client.batches("toy").batchSize(4).epoch(1).resumeFrom(token).open())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("belongs to epoch 2");
  }

  @Test
  void datasetsAndDatasetMapEveryField() {
    DatasetInfo info = client.dataset("toy");
    assertThat(client.datasets()).containsExactly(info);
    assertThat(info.name()).isEqualTo("toy");
    assertThat(info.version()).isEqualTo("v1");
    assertThat(info.numSamples()).isEqualTo(10);
    assertThat(info.numChunks()).isEqualTo(1);
    assertThat(info.sizeBytes()).isEqualTo(160);
    assertThat(info.storedBytes()).isEqualTo(80);
    assertThat(info.fields()).containsExactly(new FieldInfo("x", DType.FLOAT32, new long[] {2}),
        new FieldInfo("label", DType.INT64, new long[0]));
    assertThat(info.field("x").shape()).containsExactly(2L);
    assertThatThrownBy(() -> client.dataset("nope")).isInstanceOfSatisfying(
        TrainFeedException.class, e -> assertThat(e.code()).isEqualTo(TrainFeedException.Code.NOT_FOUND));
  }

  @Test
  void closedClientEndsStreamsWithCancelled() throws Exception {
    try (InProcessFixture f = new InProcessFixture(10)) {
      TrainFeedClient c = TrainFeedClient.builder().target("localhost:1").sleeper(f.sleeps::add)
          .build();
      c.close();
      assertThatThrownBy(c::datasets).isInstanceOfSatisfying(TrainFeedException.class,
          e -> assertThat(e.code()).isEqualTo(TrainFeedException.Code.CANCELLED));
      assertThat(f.sleeps).isEmpty();
    }
  }

  @Test
  void interruptEndsAWaitWithCancelledAndKeepsTheFlag() throws Exception {
    fixture.service.failures.add(new Failure(0, null));
    BatchIterator it = client.batches("toy").batchSize(1).open();
    Thread consumer = Thread.currentThread();
    Thread interrupter = new Thread(() -> {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      consumer.interrupt();
    });
    interrupter.start();
    try {
      assertThatThrownBy(it::hasNext).isInstanceOfSatisfying(TrainFeedException.class,
          e -> assertThat(e.code()).isEqualTo(TrainFeedException.Code.CANCELLED));
      assertThat(Thread.interrupted()).isTrue();
    } finally {
      interrupter.join();
      it.close();
    }
    assertThat(fixture.service.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
  }
}
