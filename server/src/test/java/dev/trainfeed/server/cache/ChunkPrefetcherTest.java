package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.server.store.DatasetManifest;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ChunkPrefetcherTest {
  private static final int CHUNK_BYTES = 1000;
  private static final int CHUNKS = 10;

  private final DatasetManifest ds = TestChunks.manifest("d", "v1", CHUNKS, CHUNK_BYTES);
  private final FakeChunkStore store = new FakeChunkStore();
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final StreamDemand demand = new StreamDemand(clock::get, Duration.ofSeconds(30));
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private HeapChunkCache cache;
  private ChunkLoader loader;

  private ChunkPrefetcher prefetcher(long cacheBytes, long lookahead) {
    cache = HeapChunkCache.builder().capacityBytes(cacheBytes)
        .evictionPolicy(() -> new ClairvoyantEvictionPolicy(demand)).build();
    loader = new ChunkLoader(store, cache, pool, registry, clock::get);
    return new ChunkPrefetcher(loader, cache, demand, lookahead, clock::get);
  }

  @AfterEach
  void tearDown() throws InterruptedException {
    pool.shutdownNow();
    // Reads still running must not meet a closed cache.
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    if (cache != null) {
      cache.close();
    }
  }

  private double count(String name) {
    return registry.get(name).counter().count();
  }

  private static final int[] ORDER = {4, 1, 7, 0, 9, 2, 8, 3, 6, 5};

  private void assertBytes(ChunkBytes b, int chunk) {
    assertThat(TestChunks.toArray(b))
        .isEqualTo(TestChunks.toArray(TestChunks.bytes("v1", chunk, CHUNK_BYTES)));
    b.release();
  }

  @Test
  void manyStreamsWantingTheSameChunksCauseOneReadEach() throws Exception {
    ChunkPrefetcher p = prefetcher(CHUNKS * (long) CHUNK_BYTES, 4L * CHUNK_BYTES);
    CountDownLatch gate = store.closeGate();
    List<ChunkPrefetcher.Feed> feeds = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      feeds.add(p.open(ds, ORDER, null));
    }
    // Eight streams, each four chunks ahead: four reads, shared.
    assertThat(loader.inFlight()).isEqualTo(4);
    ExecutorService streams = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (ChunkPrefetcher.Feed f : feeds) {
        done.add(streams.submit(() -> {
          for (int c : ORDER) {
            assertBytes(f.chunk(c), c);
          }
          f.close();
          return null;
        }));
      }
      gate.countDown();
      for (Future<?> d : done) {
        d.get(30, TimeUnit.SECONDS);
      }
    } finally {
      streams.shutdownNow();
    }
    for (int c = 0; c < CHUNKS; c++) {
      assertThat(store.reads(c)).as("reads of chunk %d", c).isEqualTo(1);
    }
    assertThat(count(ChunkLoader.MISSES)).isEqualTo(CHUNKS);
    assertThat(demand.activeStreams()).isZero();
  }

  @Test
  void lookAheadIsBoundedInBytesAndFollowsTheStream() throws Exception {
    ChunkPrefetcher p = prefetcher(CHUNKS * (long) CHUNK_BYTES, 3L * CHUNK_BYTES);
    CountDownLatch gate = store.closeGate();
    ChunkPrefetcher.Feed f = p.open(ds, ORDER, null);
    assertThat(f.staged()).isEqualTo(3);
    assertThat(f.aheadBytes()).isEqualTo(3L * CHUNK_BYTES);
    assertThat(demand.register("v1", new int[0], CHUNKS).prefetched()).isZero();
    gate.countDown();
    assertBytes(f.chunk(4), 4);
    // Taking one chunk frees room for exactly one more.
    assertThat(f.aheadBytes()).isEqualTo(3L * CHUNK_BYTES);
    for (int c : ORDER) {
      assertBytes(f.chunk(c), c);
    }
    assertThat(f.aheadBytes()).isZero();
    assertThat(store.totalReads()).isEqualTo(CHUNKS);
    f.close();
  }

  @Test
  void oneChunkIsAlwaysAllowedAhead() {
    ChunkPrefetcher p = prefetcher(CHUNK_BYTES, 1);
    store.closeGate();
    ChunkPrefetcher.Feed f = p.open(ds, ORDER, null);
    assertThat(f.staged()).isEqualTo(1);
    f.close();
  }

  /** Waits until no read is in flight, so that what was read is staged or cached. */
  private void awaitReads() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (loader.inFlight() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(loader.inFlight()).isZero();
  }

  /** Two streams on the same order, {@code b} one chunk behind {@code a}, to the end. */
  private void readInStep(ChunkPrefetcher.Feed a, ChunkPrefetcher.Feed b) throws Exception {
    for (int i = 0; i <= ORDER.length; i++) {
      if (i < ORDER.length) {
        assertBytes(a.chunk(ORDER[i]), ORDER[i]);
      }
      if (i > 0) {
        assertBytes(b.chunk(ORDER[i - 1]), ORDER[i - 1]);
      }
      awaitReads();
    }
  }

  @Test
  void aStreamStartedLaterSharesTheReadsOfOneAheadOfItWithoutCacheSpace() throws Exception {
    // A cache of one byte holds nothing: every share below comes from the streams themselves.
    ChunkPrefetcher p = prefetcher(1, 4L * CHUNK_BYTES);
    try (ChunkPrefetcher.Feed a = p.open(ds, ORDER, null)) {
      awaitReads();
      assertThat(store.totalReads()).isEqualTo(4);
      // The late stream borrows the four chunks the first one has read and not taken yet; each
      // chunk the first one reads next is adopted by the second, within its horizon.
      try (ChunkPrefetcher.Feed b = p.open(ds, ORDER, null)) {
        assertThat(store.totalReads()).isEqualTo(4);
        readInStep(a, b);
      }
    }
    assertThat(store.totalReads()).isEqualTo(CHUNKS);
    assertThat(count(ChunkLoader.MISSES)).isEqualTo(CHUNKS);
  }

  @Test
  void aStreamStartedAfterAnotherTookItsFirstChunksBorrowsThoseToo() throws Exception {
    ChunkPrefetcher p = prefetcher(1, 4L * CHUNK_BYTES);
    try (ChunkPrefetcher.Feed a = p.open(ds, ORDER, null)) {
      // a's batches still use the three chunks it took (a shuffle window holds them).
      List<ChunkBytes> window = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        window.add(a.chunk(ORDER[i]));
        awaitReads();
      }
      assertThat(store.totalReads()).isEqualTo(7);
      // Three chunks taken (within a's last look-ahead), four staged: all borrowed.
      try (ChunkPrefetcher.Feed b = p.open(ds, ORDER, null)) {
        awaitReads();
        assertThat(store.totalReads()).isEqualTo(7);
        for (int c : ORDER) {
          assertBytes(b.chunk(c), c);
          awaitReads();
        }
      }
      for (int i = 0; i < window.size(); i++) {
        assertBytes(window.get(i), ORDER[i]);
      }
      for (int i = 3; i < ORDER.length; i++) {
        assertBytes(a.chunk(ORDER[i]), ORDER[i]);
      }
    }
    assertThat(store.totalReads()).isEqualTo(CHUNKS);
  }

  @Test
  void chunksTwoJobsReadTogetherDoNotDisplaceTheChunksKeptForTheNextEpoch() throws Exception {
    ChunkPrefetcher p = prefetcher(3L * CHUNK_BYTES, 2L * CHUNK_BYTES);
    try (ChunkPrefetcher.Feed first = p.open(ds, ORDER, null)) {
      for (int c : ORDER) {
        first.chunk(c).release();
        awaitReads();
      }
    }
    assertThat(store.totalReads()).isEqualTo(CHUNKS);
    // Two jobs on the same order, one chunk apart: each chunk the leader reads is one the
    // follower visits next. It holds its own copy, so the cache keeps its three chunks (a
    // cached chunk of this epoch would otherwise lose its place to it, and be read again).
    try (ChunkPrefetcher.Feed a = p.open(ds, ORDER, null);
        ChunkPrefetcher.Feed b = p.open(ds, ORDER, null)) {
      readInStep(a, b);
    }
    assertThat(cache.evictions()).isZero();
    assertThat(store.totalReads()).isEqualTo(CHUNKS + CHUNKS - 3);
    assertThat(count(ChunkLoader.HITS)).isEqualTo(2 * 3);
  }

  @Test
  void prefetchedThenServedIsOneMissAndNoHitWhileAWarmEpochHitsEveryCachedChunk()
      throws Exception {
    ChunkPrefetcher p = prefetcher(CHUNKS * (long) CHUNK_BYTES, 3L * CHUNK_BYTES);
    try (ChunkPrefetcher.Feed cold = p.open(ds, ORDER, null)) {
      for (int c : ORDER) {
        cold.chunk(c).release();
        cold.chunk(c).release(); // a repeated visit in the same epoch counts nothing
      }
    }
    assertThat(count(ChunkLoader.MISSES)).isEqualTo(CHUNKS);
    assertThat(count(ChunkLoader.HITS)).isZero();
    assertThat(count(ChunkLoader.STORE_READ_BYTES)).isEqualTo(CHUNKS * (double) CHUNK_BYTES);

    try (ChunkPrefetcher.Feed warm = p.open(ds, ORDER, null)) {
      for (int c : ORDER) {
        assertBytes(warm.chunk(c), c);
        warm.chunk(c).release();
      }
    }
    assertThat(count(ChunkLoader.HITS)).isEqualTo(CHUNKS);
    assertThat(count(ChunkLoader.MISSES)).isEqualTo(CHUNKS);
  }

  @Test
  void waitingForAStagedChunkIsStallAndAFailedReadReachesTheStream() throws Exception {
    ChunkPrefetcher p = prefetcher(CHUNKS * (long) CHUNK_BYTES, 2L * CHUNK_BYTES);
    store.corrupt(1);
    CountDownLatch gate = store.closeGate();
    AtomicLong stalled = new AtomicLong(-1);
    ChunkPrefetcher.Feed f = p.open(ds, ORDER, stalled::set);
    store.onRead(n -> clock.addAndGet(5_000));
    ExecutorService t = Executors.newSingleThreadExecutor();
    try {
      Thread[] stream = new Thread[1];
      Future<ChunkBytes> first = t.submit(() -> {
        stream[0] = Thread.currentThread();
        return f.chunk(4);
      });
      // Open the gate only once the stream is parked on its staged read.
      while (stream[0] == null || stream[0].getState() != Thread.State.WAITING) {
        Thread.sleep(1);
      }
      gate.countDown();
      assertBytes(first.get(10, TimeUnit.SECONDS), 4);
    } finally {
      t.shutdownNow();
    }
    // The read of chunk 4 advanced the clock by 5 µs while the stream waited.
    assertThat(stalled.get()).isGreaterThanOrEqualTo(5_000);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> f.chunk(1))
        .isInstanceOf(dev.trainfeed.server.store.ChunkCorruptedException.class);
    store.heal(1);
    assertBytes(f.chunk(1), 1);
    f.close();
  }
}
