package dev.trainfeed.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The stream-side meters of the server. Micrometer names are dot-separated; Prometheus shows them
 * as {@code trainfeed_batches_sent_total}, {@code trainfeed_batch_bytes_sent_total},
 * {@code trainfeed_streams_active} and {@code trainfeed_stream_stall_seconds_total}. Tags are
 * bounded: none here carries a sample, token or client identity.
 */
public final class ServerMetrics {
  private final MeterRegistry registry;
  private final Counter batchesSent;
  private final Counter batchBytesSent;
  private final Counter stallSeconds;
  private final AtomicInteger streamsActive = new AtomicInteger();
  private final ActiveDatasetGauges datasets;

  /** Registers the meters in {@code registry}. */
  public ServerMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.batchesSent = Counter.builder("trainfeed.batches.sent")
        .description("Batches sent to StreamBatches and Synthesize callers").register(registry);
    this.batchBytesSent = Counter.builder("trainfeed.batch.bytes.sent")
        .description("Serialized bytes of the batches sent").register(registry);
    this.stallSeconds = Counter.builder("trainfeed.stream.stall")
        .baseUnit("seconds")
        .description("Time streams waited for chunks that were not yet loaded (data stall)")
        .register(registry);
    Gauge.builder("trainfeed.streams.active", streamsActive, AtomicInteger::get)
        .description("Batch streams in progress").register(registry);
    this.datasets = new ActiveDatasetGauges(registry);
  }

  /** The per-dataset size gauges of datasets with streams open. */
  public ActiveDatasetGauges datasets() {
    return datasets;
  }

  /** The registry the meters live in (for components that add their own). */
  public MeterRegistry registry() {
    return registry;
  }

  /** Counts one batch of {@code bytes} serialized bytes. */
  public void batchSent(long bytes) {
    batchesSent.increment();
    batchBytesSent.increment(bytes);
  }

  /** Adds {@code nanos} of data stall. */
  public void stalled(long nanos) {
    stallSeconds.increment(nanos / (double) TimeUnit.SECONDS.toNanos(1));
  }

  /** A stream started. */
  public void streamOpened() {
    streamsActive.incrementAndGet();
  }

  /** A stream ended (completed, failed or cancelled). */
  public void streamClosed() {
    streamsActive.decrementAndGet();
  }

  /** Streams in progress now. */
  public int activeStreams() {
    return streamsActive.get();
  }
}
