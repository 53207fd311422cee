package dev.trainfeed.bench.policy;

import dev.trainfeed.server.cache.ChunkLoader;
import dev.trainfeed.server.cache.ChunkPrefetcher;
import dev.trainfeed.server.cache.ClairvoyantEvictionPolicy;
import dev.trainfeed.server.cache.EvictionPolicy;
import dev.trainfeed.server.cache.HeapChunkCache;
import dev.trainfeed.server.cache.LruEvictionPolicy;
import dev.trainfeed.server.cache.StreamDemand;
import dev.trainfeed.server.order.ChunkVisits;
import dev.trainfeed.server.order.EpochOrder;
import dev.trainfeed.server.order.ShardPlan;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.DatasetNotFoundException;
import dev.trainfeed.server.store.FieldSpec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * Replays shuffled epochs through the real read path (EpochOrder, ChunkVisits, ChunkPrefetcher,
 * ChunkLoader, HeapChunkCache) with LRU and with {@link ClairvoyantEvictionPolicy}, and prints
 * the hit ratio beside its ceiling C/N and the storage bytes per epoch beside their floor
 * (1 − C/N) × dataset bytes, from the second epoch on. Then four jobs on one dataset sharing a
 * 30% cache against one job alone, and the data stall of a consumer at half the storage bandwidth
 * with prefetch on and off (the only timed part; it sleeps, so it takes a few seconds).
 *
 * <p>Run: {@code mvn -B -o -q -pl benchmarks -am compile exec:java
 * -Dexec.mainClass=dev.trainfeed.bench.policy.PolicySimulation}
 */
public final class PolicySimulation {
  private static final int CHUNKS = 500;
  private static final int SAMPLES_PER_CHUNK = 16;
  private static final int SAMPLE_BYTES = 256;
  private static final long CHUNK_BYTES = (long) SAMPLES_PER_CHUNK * SAMPLE_BYTES;
  private static final int WINDOW = 16;
  private static final int BATCH = 32;
  private static final int EPOCHS = 6;
  private static final long SEED = 42;

  private PolicySimulation() {}

  /** Prints the tables; no arguments. */
  public static void main(String[] args) throws Exception {
    DatasetManifest ds = manifest("sim", "simv1", CHUNKS);
    System.out.printf(Locale.ROOT, "dataset: %d chunks x %d bytes, shuffle window %d, batch %d,"
        + " %d epochs (reported: epochs 2..%d)%n%n", CHUNKS, CHUNK_BYTES, WINDOW, BATCH, EPOCHS,
        EPOCHS);
    System.out.println("| C/N | ceiling | LRU hit ratio | clairvoyant hit ratio | clairvoyant ÷"
        + " ceiling | floor bytes/epoch | LRU bytes/epoch | clairvoyant bytes/epoch |"
        + " clairvoyant ÷ floor |");
    System.out.println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (double f : new double[] {0.1, 0.3, 0.5, 0.9}) {
      long capacity = Math.round(f * CHUNKS) * CHUNK_BYTES;
      Result lru = run(ds, capacity, d -> new LruEvictionPolicy(), 1);
      Result ours = run(ds, capacity, ClairvoyantEvictionPolicy::new, 1);
      double floor = (1 - f) * CHUNKS * CHUNK_BYTES;
      System.out.printf(Locale.ROOT, "| %.1f | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f | %.0f |"
          + " %.3f |%n", f, f, lru.hitRatio(), ours.hitRatio(), ours.hitRatio() / f, floor,
          lru.storeBytesPerEpoch(), ours.storeBytesPerEpoch(),
          ours.storeBytesPerEpoch() / floor);
    }
    long capacity = Math.round(0.3 * CHUNKS) * CHUNK_BYTES;
    Result one = run(ds, capacity, ClairvoyantEvictionPolicy::new, 1);
    Result four = run(ds, capacity, ClairvoyantEvictionPolicy::new, 4);
    Result fourLru = run(ds, capacity, d -> new LruEvictionPolicy(), 4);
    System.out.printf(Locale.ROOT, "%nfour jobs, same dataset/seed/epochs, cache 30%%: storage"
        + " bytes/epoch %.0f (LRU %.0f) vs one job %.0f: x%.3f (LRU x%.3f)%n",
        four.storeBytesPerEpoch(), fourLru.storeBytesPerEpoch(), one.storeBytesPerEpoch(),
        four.storeBytesPerEpoch() / one.storeBytesPerEpoch(),
        fourLru.storeBytesPerEpoch() / one.storeBytesPerEpoch());
    stall(ds);
  }

  /** Hits, misses and storage bytes summed over epochs 2 … EPOCHS. */
  record Result(long hits, long misses, long storeBytes, int epochs) {
    double hitRatio() {
      return hits + misses == 0 ? 0 : hits / (double) (hits + misses);
    }

    double storeBytesPerEpoch() {
      return storeBytes / (double) epochs;
    }
  }

  static Result run(DatasetManifest ds, long capacity,
      Function<StreamDemand, EvictionPolicy> policy, int jobs) throws IOException {
    AtomicLong clock = new AtomicLong();
    StreamDemand demand = new StreamDemand(clock::get, Duration.ofSeconds(30));
    CountingStore store = new CountingStore(null);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (HeapChunkCache cache = HeapChunkCache.builder().capacityBytes(capacity)
        .evictionPolicy(() -> policy.apply(demand)).build()) {
      // Loads run inline: the replay is deterministic.
      ChunkLoader loader = new ChunkLoader(store, cache, Runnable::run, registry, clock::get);
      ChunkPrefetcher prefetcher = new ChunkPrefetcher(loader, cache, demand,
          WINDOW * CHUNK_BYTES, clock::get);
      long hits0 = 0;
      long misses0 = 0;
      long bytes0 = 0;
      for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        if (epoch == 2) {
          hits0 = (long) registry.get(ChunkLoader.HITS).counter().count();
          misses0 = (long) registry.get(ChunkLoader.MISSES).counter().count();
          bytes0 = store.bytes.get();
        }
        int[] seq = sequence(ds, epoch);
        List<ChunkPrefetcher.Feed> feeds = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
          feeds.add(prefetcher.open(ds, seq, null));
        }
        // Jobs start a few chunks apart and then take turns, as jobs launched together do.
        int lag = 3;
        for (int step = 0; step < seq.length + lag * jobs; step++) {
          for (int j = 0; j < jobs; j++) {
            int i = step - lag * j;
            if (i >= 0 && i < seq.length) {
              feeds.get(j).chunk(seq[i]);
              clock.addAndGet(1_000_000);
            }
          }
        }
        feeds.forEach(ChunkPrefetcher.Feed::close);
      }
      return new Result((long) registry.get(ChunkLoader.HITS).counter().count() - hits0,
          (long) registry.get(ChunkLoader.MISSES).counter().count() - misses0,
          store.bytes.get() - bytes0, EPOCHS - 1);
    }
  }

  static int[] sequence(DatasetManifest ds, long epoch) {
    EpochOrder order = EpochOrder.of(ds.version(), ds.chunkSampleCounts(), true, SEED, epoch,
        WINDOW);
    ShardPlan shard = ShardPlan.of(ds.numSamples(), 1, 0, BATCH, false);
    return ChunkVisits.firstVisits(order, shard, 0, ds.chunks().size(), ds::chunkOf);
  }

  /**
   * A consumer that needs one chunk per 2 ms against storage that delivers one per 1 ms (one
   * read at a time, first come first served), cold cache: the fraction of wall time it stalls
   * with the prefetcher's look-ahead, and with plain demand reads as the baseline.
   */
  static void stall(DatasetManifest full) throws Exception {
    DatasetManifest ds = manifest("stall", "stallv1", 200);
    System.out.printf(Locale.ROOT, "%nconsumer at half the storage bandwidth (storage 1 ms/chunk,"
        + " consumer 2 ms/chunk, %d chunks, cold cache):%n", ds.chunks().size());
    for (boolean prefetch : new boolean[] {true, false}) {
      double[] r = stallRun(ds, prefetch);
      System.out.printf(Locale.ROOT, "  %-32s stall %5.1f%% of %.2f s wall%n", prefetch
          ? "prefetch (16-chunk look-ahead):" : "baseline (demand reads):", 100 * r[0] / r[1],
          r[1]);
    }
  }

  private static double[] stallRun(DatasetManifest ds, boolean prefetch) throws Exception {
    StreamDemand demand = new StreamDemand();
    CountingStore store = new CountingStore(Duration.ofMillis(1));
    ExecutorService pool = Executors.newFixedThreadPool(4);
    AtomicLong stallNanos = new AtomicLong();
    try (HeapChunkCache cache = HeapChunkCache.builder().capacityBytes(CHUNK_BYTES)
        .evictionPolicy(() -> new ClairvoyantEvictionPolicy(demand)).build()) {
      ChunkLoader loader = new ChunkLoader(store, cache, pool, new SimpleMeterRegistry());
      ChunkPrefetcher prefetcher = new ChunkPrefetcher(loader, cache, demand,
          WINDOW * CHUNK_BYTES, System::nanoTime);
      int[] seq = sequence(ds, 1);
      long start = System.nanoTime();
      try (ChunkPrefetcher.Feed feed = prefetcher.open(ds, prefetch ? seq : new int[0],
          stallNanos::addAndGet)) {
        for (int c : seq) {
          feed.chunk(c);
          Thread.sleep(2);
        }
      }
      return new double[] {stallNanos.get() / 1e9, (System.nanoTime() - start) / 1e9};
    } finally {
      pool.shutdownNow();
    }
  }

  static DatasetManifest manifest(String name, String version, int chunks) {
    List<ChunkInfo> infos = new ArrayList<>();
    for (int i = 0; i < chunks; i++) {
      infos.add(new ChunkInfo(i, "chunk-" + i + ".bin", (long) i * SAMPLES_PER_CHUNK,
          SAMPLES_PER_CHUNK, CHUNK_BYTES, CHUNK_BYTES, 0, "none"));
    }
    long n = (long) chunks * SAMPLES_PER_CHUNK;
    return new DatasetManifest(DatasetManifest.FORMAT_VERSION, name, version,
        List.of(new FieldSpec("x", DType.UINT8, SAMPLE_BYTES)), n, n * SAMPLE_BYTES,
        n * SAMPLE_BYTES, infos, "2026-01-01T00:00:00Z", null);
  }

  /** Chunks of zeros; counts the bytes read; optionally one read at a time at a fixed speed. */
  private static final class CountingStore implements ChunkStore {
    final AtomicLong bytes = new AtomicLong();
    private final Duration perRead;
    private final ReentrantLock device = new ReentrantLock(true);

    CountingStore(Duration perRead) {
      this.perRead = perRead;
    }

    @Override
    public List<DatasetManifest> list() {
      return List.of();
    }

    @Override
    public List<DatasetManifest> versions(String name) {
      return List.of();
    }

    @Override
    public DatasetManifest resolve(String ref) throws IOException {
      throw new DatasetNotFoundException(ref);
    }

    @Override
    public ByteBuffer readChunk(DatasetManifest dataset, int chunk) throws IOException {
      long n = dataset.chunks().get(chunk).decodedBytes();
      if (perRead != null) {
        // One device: reads queue behind each other, first come first served.
        device.lock();
        try {
          Thread.sleep(perRead.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        } finally {
          device.unlock();
        }
      }
      bytes.addAndGet(n);
      return ByteBuffer.allocate((int) n);
    }
  }

}
