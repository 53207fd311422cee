package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.cli.Main;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Streams that a client stops reading, on a dataset far larger than every flow-control window
 * (64 MiB against 8 MiB windows and an 8 MiB on-ready threshold), so the server really holds them
 * open: it keeps them counted, queues no more than the windows, serves everyone else, and frees
 * them when the client vanishes. The same server runs with {@code --max-streams-per-connection 2}
 * and {@code --max-streams 3} to show how the two limits differ.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StalledStreamsIT {
  private static final long MIB = 1 << 20;
  private static final int BLOBS = 1024;
  private static final int BLOB_BYTES = 64 * 1024;
  private static final long DATASET_BYTES = (long) BLOBS * BLOB_BYTES;
  private static final int IDS = 1_000;
  @TempDir static Path tmp;
  static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", IDS, "1k");
    Path src = tmp.resolve("src-big");
    Files.createDirectories(src);
    byte[] blob = new byte[BLOBS * BLOB_BYTES];
    for (int i = 0; i < blob.length; i++) {
      blob[i] = (byte) (i * 31 + (i >>> 16));
    }
    TestData.writeNpy(src.resolve("blob.npy"), "|u1", new long[] {BLOBS, BLOB_BYTES}, blob);
    int rc = Main.run(new String[] {"ingest", "--data-dir", data.toString(), "--name", "big",
        "--npy", src.toString(), "--chunk-size", "1m", "--quiet"}, Map.of());
    assertThat(rc).as("ingest exit status").isZero();
    // Prefetched chunks live on the heap up to --prefetch-bytes; keep that well below the dataset
    // so that the heap bound below tells queueing apart from prefetching.
    server = ServerProcess.start(data, 0, "--cache-size", "16m", "--prefetch-bytes", "8m",
        "--max-streams-per-connection", "2", "--max-streams", "3");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.closeWithoutLeaks();
    }
  }

  @Test
  @Order(1)
  void aStalledClientHoldsItsStreamWithBoundedMemoryAndOthersAreServed() throws Exception {
    double heapBefore = liveHeap();
    double sentBefore = sentBytes();
    ManagedChannel stalled = channel();
    try {
      Stalling s = Stalling.open(stalled, 4);
      assertThat(s.first.await(30, TimeUnit.SECONDS)).as("first batch of the stalled stream")
          .isTrue();
      for (int round = 0; round < 3; round++) {
        assertThat(readIds()).as("another client reads a whole epoch meanwhile").isEqualTo(IDS);
        assertThat(active()).as("trainfeed_streams_active while the client stalls")
            .isGreaterThanOrEqualTo(1);
      }
      // The server fills the windows, then waits: what it handed to the transport for the
      // stalled stream (all but the other clients' few KiB) stays far below the dataset, and so
      // does the heap that survives a collection.
      double stalledSent = sentBytes() - sentBefore;
      double heapStalled = liveHeap();
      System.out.printf(Locale.ROOT, "stalled stream of a %d MiB dataset: %.1f MiB handed to the "
          + "transport; heap after GC %.1f -> %.1f MiB%n", DATASET_BYTES / MIB, stalledSent / MIB,
          heapBefore / MIB, heapStalled / MIB);
      assertThat(s.received).as("batches the stalled client took").isEqualTo(1);
      assertThat(s.error).isNull();
      assertThat(stalledSent).as("bytes queued for the stalled stream (dataset %d)",
          DATASET_BYTES).isLessThan(DATASET_BYTES / 2.0);
      assertThat(heapStalled - heapBefore).as("live heap growth while stalled, bytes")
          .isLessThan(DATASET_BYTES / 2.0);
      awaitActive(1); // the stalled stream is still held once the others have ended
    } finally {
      // The client vanishes without cancelling: its connection goes away.
      stalled.shutdownNow();
    }
    awaitActive(0);
    assertThat(server.log()).doesNotContain("LEAK:");
  }

  @Test
  @Order(2)
  void streamsPerConnectionQueueOnTheClientWhileMaxStreamsRefuses() throws Exception {
    ManagedChannel one = channel();
    ManagedChannel two = channel();
    ManagedChannel three = channel();
    try {
      // Each stream asks for 100 batches up front (25 MiB of a 64 MiB epoch), so the two that
      // start both get data while they share the connection's 8 MiB window, and then stall. A
      // stream that stalls after one batch could leave the other none: HTTP/2 streams share
      // their connection's window, and an unread stream holds up to its own (8 MiB) of it.
      // Connected first: calls made while a channel still connects are started on executor
      // threads in no fixed order, and then any two of the four could take the two slots.
      Eventually.await("the first connection", Duration.ofSeconds(30),
          () -> one.getState(true) == ConnectivityState.READY);
      List<Stalling> four = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        four.add(Stalling.open(one, 4, 100));
      }
      awaitActive(2);
      assertThat(four.get(0).first.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(four.get(1).first.await(30, TimeUnit.SECONDS)).isTrue();
      // A second connection still gets a stream: the per-connection limit is per connection.
      Stalling other = Stalling.open(two, 4);
      assertThat(other.first.await(30, TimeUnit.SECONDS)).isTrue();
      awaitActive(3);
      // The global limit answers with a status naming its flag.
      assertThatThrownBy(() -> DataPlaneGrpc.newBlockingStub(three).streamBatches(
          StreamBatchesRequest.newBuilder().setDataset("ids").setBatchSize(8).build()).next())
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("--max-streams");
          });
      // Streams 3 and 4 never reached the server: they wait in the client, not failed.
      assertThat(active()).isEqualTo(3);
      assertThat(four.get(2).first.getCount()).isEqualTo(1);
      assertThat(four.get(3).first.getCount()).isEqualTo(1);
      assertThat(four.get(2).error).isNull();
      assertThat(four.get(3).error).isNull();
      // Once the first two end, the queued two proceed.
      four.get(0).call.cancel("done", null);
      four.get(1).call.cancel("done", null);
      assertThat(four.get(2).first.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(four.get(3).first.await(30, TimeUnit.SECONDS)).isTrue();
      awaitActive(3);
      // Nothing here came near saturating the gRPC executor.
      assertThat(Metrics.value(server, "trainfeed_calls_shed_total", "")).isZero();
      assertThat(Metrics.scrape(server)).contains("trainfeed_calls_shed_total");
    } finally {
      one.shutdownNow();
      two.shutdownNow();
      three.shutdownNow();
    }
    awaitActive(0);
  }

  /**
   * Two iterators of one SDK client, so on one connection: the first takes one batch and pauses
   * (a validation loader between passes), the second reads a whole 64 MiB epoch meanwhile. Unlike
   * the fixed 8 MiB windows of the raw streams above, the SDK keeps gRPC's window auto-tuning on,
   * and the paused stream does not hold up the other.
   */
  @Test
  @Order(3)
  void aPausedIteratorDoesNotStallAnotherOfTheSameClient() throws Exception {
    try (TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build();
        BatchIterator paused = client.batches("big").batchSize(4).open()) {
      assertThat(paused.hasNext()).isTrue();
      paused.next();
      awaitActive(1);
      int[] read = {0};
      assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
        try (BatchIterator reader = client.batches("big").batchSize(16).open()) {
          while (reader.hasNext()) {
            read[0] += reader.next().sampleIds().length;
          }
        }
      }, "the second iterator stalled behind the paused one");
      assertThat(read[0]).isEqualTo(BLOBS);
      assertThat(paused.hasNext()).as("the paused iterator still goes on").isTrue();
    }
    awaitActive(0);
  }

  /** A stream that takes one batch and then reads no more, without cancelling. */
  private static final class Stalling
      implements ClientResponseObserver<StreamBatchesRequest, Batch> {
    final CountDownLatch first = new CountDownLatch(1);
    volatile int received;
    volatile Throwable error;
    volatile ClientCallStreamObserver<StreamBatchesRequest> call;
    final int initial;

    private Stalling(int initial) {
      this.initial = initial;
    }

    static Stalling open(ManagedChannel ch, int batchSize) {
      return open(ch, batchSize, 1);
    }

    /** A stream that takes {@code initial} batches and then reads no more. */
    static Stalling open(ManagedChannel ch, int batchSize, int initial) {
      Stalling s = new Stalling(initial);
      DataPlaneGrpc.newStub(ch).streamBatches(StreamBatchesRequest.newBuilder().setDataset("big")
          .setBatchSize(batchSize).build(), s);
      return s;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<StreamBatchesRequest> c) {
      this.call = c;
      c.disableAutoRequestWithInitial(initial);
    }

    @Override
    public void onNext(Batch b) {
      received++;
      first.countDown();
    }

    @Override
    public void onError(Throwable t) {
      error = t;
    }

    @Override
    public void onCompleted() {}
  }

  private static ManagedChannel channel() {
    // Windows as large as the SDK's, so the stall is not an artefact of a small client window.
    return NettyChannelBuilder.forTarget(server.target()).usePlaintext()
        .flowControlWindow(8 << 20).maxInboundMessageSize(64 << 20).build();
  }

  private static int readIds() throws Exception {
    try (TrainFeedClient c = TrainFeedClient.builder().target(server.target()).build();
        BatchIterator it = c.batches("ids").batchSize(100).open()) {
      int count = 0;
      while (it.hasNext()) {
        count += it.next().sampleIds().length;
      }
      return count;
    }
  }

  private static double active() throws Exception {
    return Metrics.value(server, "trainfeed_streams_active", "");
  }

  /** Heap in use right after a full collection (jcmd GC.run), so garbage does not count. */
  private static double liveHeap() throws Exception {
    Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd")
        .toString(), Long.toString(server.pid()), "GC.run").redirectErrorStream(true).start();
    gc.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    assertThat(gc.waitFor(30, TimeUnit.SECONDS)).as("jcmd GC.run finished").isTrue();
    assertThat(gc.exitValue()).as("jcmd GC.run exit status").isZero();
    return Metrics.value(server, "jvm_memory_used_bytes", "area=\"heap\"");
  }

  private static double sentBytes() throws Exception {
    return Metrics.value(server, "trainfeed_batch_bytes_sent_total", "");
  }

  private static void awaitActive(int n) throws Exception {
    Eventually.await("trainfeed_streams_active to be " + n, Duration.ofSeconds(30),
        () -> active() == n);
  }
}
