package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.server.metrics.ServerMetrics;
import io.grpc.stub.ServerCallStreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A stream whose drain task is still queued when the server stops its stream pool. */
class BatchStreamerShutdownTest {

  /** A call that is never ready, so a stream only waits; records its cancel handler. */
  private static final class IdleCall extends ServerCallStreamObserver<BatchPayload> {
    volatile Runnable onCancel;

    @Override public boolean isCancelled() { return false; }
    @Override public void setOnCancelHandler(Runnable r) { onCancel = r; }
    @Override public void setCompression(String c) { }
    @Override public boolean isReady() { return false; }
    @Override public void setOnReadyHandler(Runnable r) { }
    @Override public void disableAutoInboundFlowControl() { }
    @Override public void request(int n) { }
    @Override public void setMessageCompression(boolean e) { }
    @Override public void onNext(BatchPayload v) { }
    @Override public void onError(Throwable t) { }
    @Override public void onCompleted() { }
  }

  @Test
  void aDrainTaskDroppedByShutdownNowStillReleasesItsSourceWhenRunAfterwards() throws Exception {
    AtomicInteger releases = new AtomicInteger();
    BatchSource source = new BatchSource() {
      @Override
      public BatchPayload assemble(long index) {
        throw new AssertionError("an ended stream assembles nothing");
      }

      @Override
      public void release() {
        releases.incrementAndGet();
      }
    };
    ExecutorService pool = Executors.newSingleThreadExecutor();
    CountDownLatch busy = new CountDownLatch(1);
    pool.execute(() -> {
      try {
        busy.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    IdleCall call = new IdleCall();
    BatchStreamer<BatchPayload> streamer = new BatchStreamer<>(source, 0, 10, call, p -> p,
        pool, new ServerMetrics(new SimpleMeterRegistry()), s -> { });
    streamer.start(1 << 16); // its first drain task waits behind the busy one
    call.onCancel.run(); // the client goes away (or shutdownNow cancels the call)
    assertThat(releases).as("a queued drain task owns the release").hasValue(0);

    List<Runnable> neverRan = pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(releases).as("dropped with the queue: its chunks stay pinned").hasValue(0);

    DataPlaneService.runAbandoned(neverRan);
    assertThat(releases).hasValue(1);
  }
}
