package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.server.store.ChunkCorruptedException;
import dev.trainfeed.server.store.DatasetManifest;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ChunkLoaderTest {
  private static final int CHUNK_BYTES = 4000;

  private final DatasetManifest ds = TestChunks.manifest("digits", "0123abcd", 12, CHUNK_BYTES);
  private final FakeChunkStore store = new FakeChunkStore();
  private final HeapChunkCache cache =
      HeapChunkCache.builder().capacityBytes(4L * CHUNK_BYTES).build();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final ChunkLoader loader = new ChunkLoader(store, cache, pool, registry, nanos::get);

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
    cache.close();
  }

  private void assertBytes(ByteBuffer b, int chunk) {
    assertThat(b.position()).isZero();
    assertThat(TestChunks.toArray(b))
        .isEqualTo(TestChunks.toArray(TestChunks.bytes(ds.version(), chunk, CHUNK_BYTES)));
  }

  private double counter(String name) {
    return registry.get(name).functionCounter().count();
  }

  @Test
  void missThenHit() throws Exception {
    assertBytes(loader.load(ds, 3), 3);
    assertBytes(loader.load(ds, 3), 3);
    assertThat(store.reads(3)).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.MISSES).counter().count()).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.HITS).counter().count()).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.STORE_READ_BYTES).counter().count())
        .isEqualTo(CHUNK_BYTES);
  }

  @Test
  void manyConcurrentCallersCauseOneStorageRead() throws Exception {
    CountDownLatch gate = store.closeGate();
    int callers = 16;
    ExecutorService threads = Executors.newFixedThreadPool(callers);
    try {
      List<Future<ByteBuffer>> results = new ArrayList<>();
      List<Thread> workers = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        results.add(threads.submit(() -> {
          synchronized (workers) {
            workers.add(Thread.currentThread());
          }
          return loader.load(ds, 5);
        }));
      }
      assertThat(store.entered().await(30, TimeUnit.SECONDS)).isTrue();
      awaitAllWaiting(workers, callers);
      gate.countDown();
      for (Future<ByteBuffer> f : results) {
        assertBytes(f.get(30, TimeUnit.SECONDS), 5);
      }
    } finally {
      threads.shutdownNow();
    }
    assertThat(store.reads(5)).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.MISSES).counter().count()).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.HITS).counter().count()).isZero();
    assertThat(loader.inFlight()).isZero();
  }

  /** Waits until every worker is parked: one in the store's gate, the rest on the read's future. */
  private static void awaitAllWaiting(List<Thread> workers, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      synchronized (workers) {
        if (workers.size() == count && workers.stream().allMatch(t ->
            t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING)) {
          return;
        }
      }
      Thread.sleep(5);
    }
    throw new AssertionError("callers did not all block");
  }

  @Test
  void corruptionReachesEveryWaiterAndIsNotCached() throws Exception {
    store.corrupt(7);
    CountDownLatch gate = store.closeGate();
    CompletableFuture<ByteBuffer> prefetched = loader.prefetch(ds, 7);
    assertThat(store.entered().await(30, TimeUnit.SECONDS)).isTrue();
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try {
      List<Future<ByteBuffer>> waiters = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        waiters.add(threads.submit(() -> loader.load(ds, 7)));
      }
      Thread.sleep(50); // let them join the read in flight (either way they must fail)
      gate.countDown();
      for (Future<ByteBuffer> w : waiters) {
        assertThatThrownBy(() -> w.get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(ChunkCorruptedException.class)
            .hasMessageContaining("chunk 7");
      }
      assertThatThrownBy(() -> prefetched.get(30, TimeUnit.SECONDS))
          .cause().isInstanceOf(ChunkCorruptedException.class);
    } finally {
      threads.shutdownNow();
    }
    assertThat(cache.contains(new ChunkKey(ds.version(), 7))).isFalse();
    int readsSoFar = store.reads(7);
    assertThatThrownBy(() -> loader.load(ds, 7)).isInstanceOf(ChunkCorruptedException.class);
    assertThat(store.reads(7)).isEqualTo(readsSoFar + 1);
    store.heal(7);
    assertBytes(loader.load(ds, 7), 7);
    assertThat(loader.inFlight()).isZero();
  }

  @Test
  void prefetchThenLoadIsAHit() throws Exception {
    assertBytes(loader.prefetch(ds, 2).get(30, TimeUnit.SECONDS), 2);
    List<Long> stalls = new ArrayList<>();
    assertBytes(loader.load(ds, 2, stalls::add), 2);
    assertThat(stalls).isEmpty();
    assertThat(store.reads(2)).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.HITS).counter().count()).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.MISSES).counter().count()).isEqualTo(1);
    // Prefetching a cached chunk reads nothing and counts nothing.
    assertBytes(loader.prefetch(ds, 2).get(30, TimeUnit.SECONDS), 2);
    assertThat(store.reads(2)).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.HITS).counter().count()).isEqualTo(1);
  }

  @Test
  void loadJoinsAPrefetchInFlightAndReportsItsStall() throws Exception {
    CountDownLatch gate = store.closeGate();
    CompletableFuture<ByteBuffer> prefetched = loader.prefetch(ds, 4);
    assertThat(store.entered().await(30, TimeUnit.SECONDS)).isTrue();
    AtomicLong stall = new AtomicLong(-1);
    ExecutorService caller = Executors.newSingleThreadExecutor();
    try {
      List<Thread> callerThread = new ArrayList<>();
      Future<ByteBuffer> loaded = caller.submit(() -> {
        synchronized (callerThread) {
          callerThread.add(Thread.currentThread());
        }
        return loader.load(ds, 4, stall::set);
      });
      // Only once the caller waits on the read has it taken its start time; a fixed sleep could
      // advance the clock before that on a slow machine and measure no stall.
      awaitAllWaiting(callerThread, 1);
      nanos.addAndGet(7_000_000); // the read takes 7 ms of fake time
      gate.countDown();
      assertBytes(loaded.get(30, TimeUnit.SECONDS), 4);
      assertBytes(prefetched.get(30, TimeUnit.SECONDS), 4);
    } finally {
      caller.shutdownNow();
    }
    assertThat(store.reads(4)).isEqualTo(1);
    assertThat(stall.get()).isEqualTo(7_000_000);
  }

  @Test
  void demandLoadReportsItsStallAndTimesTheRead() throws Exception {
    store.onRead(len -> nanos.addAndGet(3_000_000));
    AtomicLong stall = new AtomicLong(-1);
    loader.load(ds, 0, stall::set);
    assertThat(stall.get()).isEqualTo(3_000_000);
    assertThat(registry.get(ChunkLoader.CHUNK_LOAD).timer().count()).isEqualTo(1);
    assertThat(registry.get(ChunkLoader.CHUNK_LOAD).timer().totalTime(TimeUnit.MILLISECONDS))
        .isEqualTo(3.0);
  }

  @Test
  void rejectsChunksOutsideTheDataset() {
    assertThatThrownBy(() -> loader.load(ds, 12)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> loader.prefetch(ds, -1))
        .isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void prefetchFailsWhenThePoolRefuses() throws Exception {
    ChunkLoader refusing = new ChunkLoader(store, cache, r -> {
      throw new RejectedExecutionException("full");
    }, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    assertThatThrownBy(() -> refusing.prefetch(ds, 1).get())
        .cause().isInstanceOf(RejectedExecutionException.class);
    assertThat(refusing.inFlight()).isZero();
    assertBytes(refusing.load(ds, 1), 1);
  }

  @Test
  void exportsTheRequiredPrometheusNamesAndValues() throws Exception {
    for (int c = 0; c < 6; c++) {
      loader.load(ds, c); // capacity holds 4 chunks: 2 evictions
    }
    loader.load(ds, 5);
    assertThat(counter(ChunkLoader.EVICTIONS)).isEqualTo(2);
    String text = registry.scrape();
    assertThat(text)
        .contains("trainfeed_cache_hits_total 1.0")
        .contains("trainfeed_cache_misses_total 6.0")
        .contains("trainfeed_cache_evictions_total 2.0")
        .contains("trainfeed_cache_size_bytes " + (4.0 * CHUNK_BYTES))
        .contains("trainfeed_cache_capacity_bytes " + (4.0 * CHUNK_BYTES))
        .contains("trainfeed_store_read_bytes_total " + (6.0 * CHUNK_BYTES))
        .contains("trainfeed_chunk_load_seconds_bucket{le=")
        .contains("trainfeed_chunk_load_seconds_count 6");
  }
}
