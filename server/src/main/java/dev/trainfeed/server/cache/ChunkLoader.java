package dev.trainfeed.server.cache;

import dev.trainfeed.server.store.ChunkCorruptedException;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DatasetManifest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The read path streams use: chunk bytes from the cache, or from the store with one storage read
 * per chunk however many callers want it at once (single flight), admitted to the cache
 * afterwards.
 *
 * <p>Errors of a storage read ({@link ChunkCorruptedException}, other {@link IOException}s,
 * runtime failures) reach every caller waiting on that read and are not cached: the next call
 * reads again.
 *
 * <p>Metrics (Micrometer names; Prometheus adds {@code _total} to counters and the base unit):
 *
 * <ul>
 *   <li>{@value #HITS} counter: first visits (a stream's first access in its epoch, {@link
 *       #load(DatasetManifest, int, boolean, LongConsumer)} with {@code firstVisit}) that the
 *       cache served; a chunk a stream got from its own prefetch is no hit (its read is the
 *       miss), and neither is a repeated visit;
 *   <li>{@value #MISSES} counter: chunks fetched from storage, by prefetch or on demand, one per
 *       storage read however many callers then use it;
 *   <li>{@value #EVICTIONS} function counter: {@link ChunkCache#evictions()};
 *   <li>{@value #STORE_READ_BYTES} counter (bytes): decoded bytes returned by the store;
 *   <li>{@value #CHUNK_LOAD} timer (seconds, percentile histogram): duration of each storage
 *       fetch, read plus cache admission;
 *   <li>{@value #CACHE_SIZE} and {@value #CACHE_CAPACITY} gauges (bytes): {@link
 *       ChunkCache#sizeBytes()} and {@link ChunkCache#capacityBytes()};
 *   <li>{@value #CACHE_PINNED} gauge (bytes): {@link ChunkCache#pinnedBytes()}, the part of the
 *       cache streams are sending from now.
 * </ul>
 *
 * <p>Buffers handed out are read-only, little-endian views (position 0, limit the chunk's decoded
 * length) that each caller may consume independently. Thread-safe.
 */
public final class ChunkLoader {

  /** Counter of accesses the cache served; Prometheus {@code trainfeed_cache_hits_total}. */
  public static final String HITS = "trainfeed.cache.hits";
  /** Counter of chunks fetched from storage; Prometheus {@code trainfeed_cache_misses_total}. */
  public static final String MISSES = "trainfeed.cache.misses";
  /** Function counter of evictions; Prometheus {@code trainfeed_cache_evictions_total}. */
  public static final String EVICTIONS = "trainfeed.cache.evictions";
  /** Counter of bytes read from the store; Prometheus {@code trainfeed_store_read_bytes_total}. */
  public static final String STORE_READ_BYTES = "trainfeed.store.read.bytes";
  /** Timer of storage fetches; Prometheus {@code trainfeed_chunk_load_seconds}. */
  public static final String CHUNK_LOAD = "trainfeed.chunk.load";
  /** Gauge of cached bytes; Prometheus {@code trainfeed_cache_size_bytes}. */
  public static final String CACHE_SIZE = "trainfeed.cache.size";
  /**
   * Counter of stored chunks that failed their checksum or could not be decoded, tagged with the
   * dataset name; Prometheus {@code trainfeed_chunk_corruptions_total{dataset}}.
   */
  public static final String CORRUPTIONS = "trainfeed.chunk.corruptions";
  /**
   * Gauge of the bytes streams hold pinned in the cache ({@link ChunkCache#pinnedBytes()});
   * Prometheus {@code trainfeed_cache_pinned_bytes}.
   */
  public static final String CACHE_PINNED = "trainfeed.cache.pinned";
  /** Gauge of the cache bound; Prometheus {@code trainfeed_cache_capacity_bytes}. */
  public static final String CACHE_CAPACITY = "trainfeed.cache.capacity";

  private final ChunkStore store;
  private final ChunkCache cache;
  private final Executor loaderPool;
  private final LongSupplier nanoTicker;
  private final ConcurrentHashMap<ChunkKey, CompletableFuture<ByteBuffer>> inFlight =
      new ConcurrentHashMap<>();
  private final List<ReadListener> readListeners = new CopyOnWriteArrayList<>();
  private final Counter hits;
  private final Counter misses;
  private final Counter storeReadBytes;
  private final Timer chunkLoad;
  private final MeterRegistry registry;

  /**
   * Creates a loader timed by {@link System#nanoTime()}.
   *
   * @param store where chunks are read on a miss
   * @param cache where chunks are looked up first and admitted after a read; not closed here
   * @param loaderPool runs {@link #prefetch} reads; {@link #load} reads on the caller's thread
   * @param registry receives the metrics listed on the class
   */
  public ChunkLoader(ChunkStore store, ChunkCache cache, Executor loaderPool,
      MeterRegistry registry) {
    this(store, cache, loaderPool, registry, System::nanoTime);
  }

  /**
   * Creates a loader with an injected monotonic clock, in nanoseconds, used for {@value
   * #CHUNK_LOAD} and for stall times.
   */
  public ChunkLoader(ChunkStore store, ChunkCache cache, Executor loaderPool,
      MeterRegistry registry, LongSupplier nanoTicker) {
    this.store = Objects.requireNonNull(store, "store");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.loaderPool = Objects.requireNonNull(loaderPool, "loaderPool");
    this.nanoTicker = Objects.requireNonNull(nanoTicker, "nanoTicker");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.hits = Counter.builder(HITS)
        .description("Chunk accesses served by the cache")
        .register(registry);
    this.misses = Counter.builder(MISSES)
        .description("Chunks fetched from storage (prefetch or demand), one per read")
        .register(registry);
    this.storeReadBytes = Counter.builder(STORE_READ_BYTES)
        .description("Decoded bytes read from the chunk store")
        .baseUnit(BaseUnits.BYTES)
        .register(registry);
    this.chunkLoad = Timer.builder(CHUNK_LOAD)
        .description("Time to fetch one chunk from storage and admit it to the cache")
        .publishPercentileHistogram()
        .register(registry);
    FunctionCounter.builder(EVICTIONS, cache, ChunkCache::evictions)
        .description("Chunks evicted from the cache")
        .register(registry);
    Gauge.builder(CACHE_SIZE, cache, ChunkCache::sizeBytes)
        .description("Decoded bytes held in the chunk cache")
        .baseUnit(BaseUnits.BYTES)
        .strongReference(true)
        .register(registry);
    Gauge.builder(CACHE_PINNED, cache, ChunkCache::pinnedBytes)
        .description("Decoded bytes of cached chunks that streams are sending from now; they "
            + "cannot be evicted until released")
        .baseUnit(BaseUnits.BYTES)
        .strongReference(true)
        .register(registry);
    Gauge.builder(CACHE_CAPACITY, cache, ChunkCache::capacityBytes)
        .description("Configured bound on the chunk cache")
        .baseUnit(BaseUnits.BYTES)
        .strongReference(true)
        .register(registry);
  }

  /**
   * The decoded bytes of chunk {@code chunk} of {@code ds}, blocking until they are available.
   * Same as {@link #load(DatasetManifest, int, LongConsumer)} without a stall listener.
   */
  public ByteBuffer load(DatasetManifest ds, int chunk) throws IOException {
    return load(ds, chunk, null);
  }

  /**
   * Same as {@link #load(DatasetManifest, int, boolean, LongConsumer)} for a first visit: a cache
   * hit counts.
   */
  public ByteBuffer load(DatasetManifest ds, int chunk, LongConsumer stallNanos)
      throws IOException {
    return load(ds, chunk, true, stallNanos);
  }

  /**
   * The decoded bytes of chunk {@code chunk} of {@code ds}: from the cache (a hit when {@code
   * firstVisit}), else from the read already in flight for it, else read from the store on this
   * thread (a miss) and admitted to the cache if the policy wants it.
   *
   * @param firstVisit whether this is the caller's first access to the chunk in its epoch, so
   *     that a cache hit counts; false for a repeated access or one whose bytes the caller
   *     prefetched (that read was the miss)
   * @param stallNanos when not null and the call had to wait for storage (its own read or one in
   *     flight), receives how long it waited, in nanoseconds; not called on a cache hit. The
   *     stream layer exports this as {@code trainfeed.stream.stall}.
   * @throws ChunkCorruptedException the stored chunk failed its checksum or could not be decoded
   * @throws InterruptedIOException the thread was interrupted while waiting (its flag is set)
   * @throws IndexOutOfBoundsException {@code chunk} is not a chunk of {@code ds}
   */
  public ByteBuffer load(DatasetManifest ds, int chunk, boolean firstVisit,
      LongConsumer stallNanos) throws IOException {
    ChunkKey key = keyOf(ds, chunk);
    ByteBuffer cached = cache.get(key);
    if (cached != null) {
      countHit(firstVisit);
      return cached;
    }
    long start = nanoTicker.getAsLong();
    CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
    CompletableFuture<ByteBuffer> existing = inFlight.putIfAbsent(key, mine);
    ByteBuffer result;
    if (existing == null) {
      // A read that finished between our cache lookup and putIfAbsent is in the cache now.
      cached = cache.get(key);
      if (cached != null) {
        inFlight.remove(key, mine);
        mine.complete(cached);
        countHit(firstVisit);
        return cached;
      }
      fetch(ds, chunk, key, mine);
      result = await(mine, key);
    } else {
      result = await(existing, key);
    }
    if (stallNanos != null) {
      stallNanos.accept(Math.max(0, nanoTicker.getAsLong() - start));
    }
    return view(result);
  }

  /**
   * Same as {@link #load(DatasetManifest, int, boolean, LongConsumer)}, but a cache hit comes as
   * the cache's {@link ChunkCache#lease}, which may be views of its pages pinned until released;
   * a miss comes as the loaded heap buffer. The caller releases the result when done with it.
   */
  public ChunkBytes lease(DatasetManifest ds, int chunk, boolean firstVisit,
      LongConsumer stallNanos) throws IOException {
    ChunkBytes leased = cache.lease(keyOf(ds, chunk));
    if (leased != null) {
      countHit(firstVisit);
      return leased;
    }
    return ChunkBytes.of(load(ds, chunk, firstVisit, stallNanos));
  }

  /**
   * Starts loading chunk {@code chunk} of {@code ds} on the loader pool unless it is cached or
   * already in flight. Not an access: a cached chunk counts no hit; a storage read counts one
   * miss. The future completes with the bytes (for a cached chunk, a copy the cache makes now, so
   * callers that only want a chunk loaded should skip chunks {@link ChunkCache#contains}), or
   * exceptionally with the read's error (an {@link
   * IOException} such as {@link ChunkCorruptedException}, or a {@link RejectedExecutionException}
   * when the pool refuses the task).
   *
   * @throws IndexOutOfBoundsException {@code chunk} is not a chunk of {@code ds}
   */
  public CompletableFuture<ByteBuffer> prefetch(DatasetManifest ds, int chunk) {
    ChunkKey key = keyOf(ds, chunk);
    if (cache.contains(key)) {
      ByteBuffer cached = cache.get(key);
      if (cached != null) {
        return CompletableFuture.completedFuture(cached);
      }
    }
    CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
    CompletableFuture<ByteBuffer> existing = inFlight.putIfAbsent(key, mine);
    if (existing != null) {
      return existing.thenApply(ChunkLoader::view);
    }
    try {
      loaderPool.execute(() -> {
        if (cache.contains(key)) {
          ByteBuffer cached = cache.get(key);
          if (cached != null) {
            inFlight.remove(key, mine);
            mine.complete(cached);
            return;
          }
        }
        fetch(ds, chunk, key, mine);
      });
    } catch (RejectedExecutionException e) {
      inFlight.remove(key, mine);
      mine.completeExceptionally(e);
    }
    return mine.thenApply(ChunkLoader::view);
  }

  private void countHit(boolean firstVisit) {
    if (firstVisit) {
      hits.increment();
    }
  }

  /**
   * Told of each chunk read from the store, before the cache decides whether to admit it.
   * Listeners run on the reading thread and must not block or throw.
   */
  @FunctionalInterface
  public interface ReadListener {
    /**
     * Chunk {@code chunk} of {@code ds} was read; {@code bytes} is a view for this listener
     * (position 0, limit the decoded length), which it may keep and must not write to.
     */
    void read(DatasetManifest ds, int chunk, ByteBuffer bytes);
  }

  /** Adds a listener told of every storage read from now on. */
  public void addReadListener(ReadListener listener) {
    readListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Number of storage reads in flight now. */
  public int inFlight() {
    return inFlight.size();
  }

  /** Reads from the store, admits to the cache and completes {@code target}; never throws. */
  private void fetch(DatasetManifest ds, int chunk, ChunkKey key,
      CompletableFuture<ByteBuffer> target) {
    misses.increment();
    long start = nanoTicker.getAsLong();
    try {
      ByteBuffer bytes = store.readChunk(ds, chunk);
      if (bytes == null) {
        throw new IOException("store returned no bytes for chunk " + key + " of " + ds.ref());
      }
      storeReadBytes.increment(bytes.remaining());
      // Before admission: streams that take a copy now no longer count for the cache's policy.
      for (ReadListener l : readListeners) {
        l.read(ds, chunk, view(bytes));
      }
      cache.put(key, bytes);
      chunkLoad.record(nanoTicker.getAsLong() - start, TimeUnit.NANOSECONDS);
      // Remove before completing so a caller woken by the future never finds a stale entry.
      inFlight.remove(key, target);
      target.complete(view(bytes));
    } catch (Throwable t) {
      if (t instanceof ChunkCorruptedException) {
        Counter.builder(CORRUPTIONS).tag("dataset", ds.name())
            .description("Stored chunks that failed their checksum or could not be decoded")
            .register(registry).increment();
      }
      inFlight.remove(key, target);
      target.completeExceptionally(t);
      if (t instanceof Error) {
        throw (Error) t;
      }
    }
  }

  private static ByteBuffer await(CompletableFuture<ByteBuffer> f, ChunkKey key)
      throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException ie = new InterruptedIOException("interrupted waiting for chunk "
          + key);
      ie.initCause(e);
      throw ie;
    } catch (ExecutionException e) {
      throw rethrow(e.getCause(), key);
    }
  }

  /**
   * A fresh exception for this caller (its own stack, the original as cause): a {@link
   * ChunkCorruptedException} for one, an {@link IOException} for other I/O failures; runtime
   * failures and errors are rethrown as they are.
   */
  private static IOException rethrow(Throwable cause, ChunkKey key) {
    if (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof ChunkCorruptedException) {
      return new ChunkCorruptedException(cause.getMessage(), cause);
    }
    if (cause instanceof UncheckedIOException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof IOException) {
      return new IOException(cause.getMessage(), cause);
    }
    if (cause instanceof RuntimeException) {
      throw (RuntimeException) cause;
    }
    if (cause instanceof Error) {
      throw (Error) cause;
    }
    return new IOException("loading chunk " + key + " failed", cause);
  }

  /**
   * A view of a loaded chunk for one caller. Not read-only: a read-only heap buffer hides its array
   * and would cost the transport a bounce copy of every payload byte. Callers never write to it.
   * The prefetcher hands chunks shared between streams out the same way.
   */
  static ByteBuffer view(ByteBuffer b) {
    return b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static ChunkKey keyOf(DatasetManifest ds, int chunk) {
    Objects.requireNonNull(ds, "ds");
    if (chunk < 0 || chunk >= ds.chunks().size()) {
      throw new IndexOutOfBoundsException("chunk " + chunk + " of " + ds.ref() + " with "
          + ds.chunks().size() + " chunks");
    }
    return new ChunkKey(ds.version(), chunk);
  }
}
