package dev.trainfeed.server.cache;

import dev.trainfeed.server.store.DatasetManifest;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Clairvoyant prefetch: each stream registers the chunks it will visit, in order ({@link #open});
 * the prefetcher keeps the next ones loading on the loader pool, in that order, as far ahead as
 * {@link #lookaheadBytes()} of decoded chunk bytes allows, and serves them to the stream when it
 * gets there.
 *
 * <p>Chunks the cache holds are left there (the eviction policy sees that a stream is about to
 * visit them and keeps them). The others are read through {@link ChunkLoader#prefetch}: one
 * storage read per chunk however many streams want it at once, admitted to the cache if the
 * policy wants it; the stream keeps its own reference to the bytes either way (staged), so a
 * chunk streamed past a full cache needs no cache space.
 *
 * <p>Streams of one dataset version share what they read: a stream whose prefetch reaches a chunk
 * that another stream holds staged (loaded, or still loading) borrows that read instead of
 * starting another, and each chunk read from the store is offered to the other streams, which
 * adopt it if they visit it within about one look-ahead past their prefetch cursor (see {@link
 * StreamDemand.Registration#hold}). A stream holding its own copy does not count for the cache's
 * policy, so jobs reading the same order close together read each chunk once and the cache
 * keeps what it holds for later epochs. Borrowed and adopted chunks are views of the same bytes.
 *
 * <p>The look-ahead is per stream and counts every chunk between what the stream has taken and
 * what the prefetcher has reached, cached or staged, so staged memory is at most {@code
 * lookaheadBytes} per stream (at least one chunk), plus about as much again of adopted chunks
 * (shared with the stream that read them). A stream also remembers the reads it took within the
 * last look-ahead, weakly (while its batches still use them, and never keeping one alive), so
 * that a stream starting a little later on the same order borrows them too. Since a shuffled
 * window's samples are spread over all its chunks, the default (64 MiB) covers a default window
 * (16 chunks of the default 4 MiB), so the next window loads while the current one is sent.
 *
 * <p>Metrics follow the cache's definitions: a chunk the stream gets from its staged read is not
 * a hit (the read was counted as one miss); a stream's first visit in its epoch to a chunk the
 * cache serves is one hit; later visits in the same epoch count nothing; time a stream waits for
 * a chunk that is not loaded yet goes to its stall listener. Thread-safe.
 */
public final class ChunkPrefetcher {
  /** Default {@code lookaheadBytes}: 64 MiB per stream. */
  public static final long DEFAULT_LOOKAHEAD_BYTES = 64L << 20;

  private final ChunkLoader loader;
  private final ChunkCache cache;
  private final StreamDemand demand;
  private final long lookaheadBytes;
  private final LongSupplier nanoTicker;
  /** Open feeds by dataset version, offered every chunk read from the store. */
  private final Map<String, Set<Feed>> feeds = new ConcurrentHashMap<>();

  /**
   * Creates a prefetcher. It listens to {@code loader}'s reads (see {@link
   * ChunkLoader#addReadListener}) for the life of the loader.
   *
   * @param loader reads chunks (single flight, metrics)
   * @param cache the loader's cache, asked whether a chunk needs reading at all
   * @param demand the registry streams are entered in; the cache's eviction policy should read it
   * @param lookaheadBytes decoded bytes each stream may have ahead of it ({@code
   *     --prefetch-bytes}); at least 1 (one chunk is always allowed)
   * @param nanoTicker monotonic clock for stall times, in nanoseconds
   */
  public ChunkPrefetcher(ChunkLoader loader, ChunkCache cache, StreamDemand demand,
      long lookaheadBytes, LongSupplier nanoTicker) {
    this.loader = Objects.requireNonNull(loader, "loader");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.demand = Objects.requireNonNull(demand, "demand");
    this.nanoTicker = Objects.requireNonNull(nanoTicker, "nanoTicker");
    if (lookaheadBytes < 1) {
      throw new IllegalArgumentException("lookaheadBytes must be at least 1, got "
          + lookaheadBytes + "; pass --prefetch-bytes as a size such as 64m");
    }
    this.lookaheadBytes = lookaheadBytes;
    loader.addReadListener(this::offer);
  }

  /**
   * The read of {@code chunk} that a feed other than {@code asking} holds, loaded or still
   * loading (its read may have just finished, too late for {@code asking} to adopt it), as views
   * for {@code asking}; null when none does.
   */
  private CompletableFuture<ByteBuffer> borrow(Feed asking, String version, int chunk) {
    Set<Feed> open = feeds.get(version);
    if (open != null) {
      for (Feed f : open) {
        CompletableFuture<ByteBuffer> b = f == asking ? null : f.held(chunk);
        if (b != null) {
          return b.thenApply(ChunkLoader::view);
        }
      }
    }
    return null;
  }

  /** Offers a chunk just read from the store to the other open streams of its dataset. */
  private void offer(DatasetManifest dataset, int chunk, ByteBuffer bytes) {
    Set<Feed> open = feeds.get(dataset.version());
    if (open != null) {
      for (Feed f : open) {
        f.adopt(chunk, bytes);
      }
    }
  }

  /** Decoded bytes each stream may have ahead of it. */
  public long lookaheadBytes() {
    return lookaheadBytes;
  }

  /** The registry of active streams' futures. */
  public StreamDemand demand() {
    return demand;
  }

  /**
   * Registers a stream that will visit {@code sequence} of {@code dataset}, and starts loading
   * its first chunks.
   *
   * @param sequence distinct chunk indexes in first-visit order (see {@code ChunkVisits})
   * @param stallNanos receives each wait for a chunk not loaded yet, in nanoseconds; may be null
   */
  public Feed open(DatasetManifest dataset, int[] sequence, LongConsumer stallNanos) {
    Objects.requireNonNull(dataset, "dataset");
    Feed f = new Feed(dataset, demand.register(dataset.version(), sequence,
        dataset.chunks().size()), stallNanos);
    feeds.compute(dataset.version(), (v, open) -> {
      Set<Feed> set = open == null ? ConcurrentHashMap.newKeySet() : open;
      set.add(f);
      return set;
    });
    f.pump();
    return f;
  }

  /** One stream's view: chunks in its sequence, served from its staged reads or the cache. */
  public final class Feed implements AutoCloseable {
    private final DatasetManifest dataset;
    private final StreamDemand.Registration reg;
    private final LongConsumer stallNanos;
    /** Chunks past the prefetch cursor this stream may adopt: about one look-ahead's worth. */
    private final int adoptHorizon;
    private final BitSet visited = new BitSet();
    /** Reads started for this stream and not yet taken; guarded by this. */
    private final Map<Integer, CompletableFuture<ByteBuffer>> staged = new HashMap<>();
    /**
     * Reads this stream took most recently, oldest first, at most {@link #lookaheadBytes} of
     * them, held weakly: while its batches still use one, a stream that starts a little later
     * on the same order borrows it, and none is kept alive for that alone. Guarded by this.
     */
    private final LinkedHashMap<Integer, WeakReference<ByteBuffer>> taken =
        new LinkedHashMap<>();
    private long takenBytes;
    /** Decoded bytes of the chunks between the consumed and prefetched cursors; guarded by this. */
    private long ahead;
    private boolean closed;

    private Feed(DatasetManifest dataset, StreamDemand.Registration reg,
        LongConsumer stallNanos) {
      this.dataset = dataset;
      this.reg = reg;
      this.stallNanos = stallNanos;
      long meanChunk = Math.max(1, dataset.sizeBytes() / Math.max(1, dataset.chunks().size()));
      this.adoptHorizon = (int) Math.max(1, Math.min(Integer.MAX_VALUE,
          lookaheadBytes / meanChunk));
    }

    /**
     * Keeps a copy of a chunk another stream's read brought in, if this stream visits it within
     * its adoption horizon: streams that read the same chunks close together (jobs on the same
     * dataset, seed and epoch) then share one storage read without the cache giving up a chunk
     * it keeps for later epochs to hold it for them.
     */
    void adopt(int chunk, ByteBuffer bytes) {
      synchronized (this) {
        if (closed || staged.containsKey(chunk) || !reg.hold(chunk, adoptHorizon)) {
          return;
        }
        staged.put(chunk, CompletableFuture.completedFuture(ChunkLoader.view(bytes)));
      }
    }

    /**
     * The decoded bytes of {@code chunk}, waiting for them if they are still loading: the
     * stream's staged read, or the cache's {@link ChunkCache#lease} (pinned until released, so
     * the stream releases what it takes). Chunks outside the registered sequence are loaded on
     * demand.
     *
     * @throws IOException as {@link ChunkLoader#load} (a staged read that failed is retried
     *     here, on this thread, so that the error reaches the stream)
     */
    public ChunkBytes chunk(int chunk) throws IOException {
      boolean first;
      CompletableFuture<ByteBuffer> mine;
      synchronized (this) {
        first = !visited.get(chunk);
        visited.set(chunk);
        int reached = reg.prefetched();
        int from = reg.consume(chunk);
        if (from >= 0) {
          // Chunks the prefetcher had reached leave the look-ahead; the rest never entered it.
          for (int i = from; i <= reg.indexOf(chunk) && i < reached; i++) {
            ahead -= bytes(reg.chunkAt(i));
          }
        }
        mine = staged.remove(chunk);
      }
      pump();
      if (mine != null) {
        ByteBuffer b = awaitStaged(mine);
        if (b != null) {
          keepTaken(chunk, b);
          return ChunkBytes.of(b);
        }
        // Served by a retry below; the failed read already counted its miss.
        first = false;
      }
      return loader.lease(dataset, chunk, first, stallNanos);
    }

    private ByteBuffer awaitStaged(CompletableFuture<ByteBuffer> f) throws IOException {
      if (f.isDone() && !f.isCompletedExceptionally()) {
        return f.join();
      }
      long start = nanoTicker.getAsLong();
      try {
        return f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        InterruptedIOException ie = new InterruptedIOException("interrupted waiting for a chunk"
            + " of " + dataset.ref());
        ie.initCause(e);
        throw ie;
      } catch (ExecutionException e) {
        return null;
      } finally {
        if (stallNanos != null) {
          stallNanos.accept(Math.max(0, nanoTicker.getAsLong() - start));
        }
      }
    }

    /** Starts reads until the look-ahead is full. */
    void pump() {
      while (true) {
        int c;
        synchronized (this) {
          if (closed || reg.prefetched() >= reg.length()) {
            return;
          }
          long next = bytes(reg.chunkAt(reg.prefetched()));
          if (ahead > 0 && ahead + next > lookaheadBytes) {
            return;
          }
          c = reg.advancePrefetch();
          if (c < 0) {
            return;
          }
          ahead += next;
          if (staged.containsKey(c)) {
            continue; // adopted from another stream's read
          }
        }
        // Outside the lock: the cache takes its own lock and consults the registry.
        if (!cache.contains(new ChunkKey(dataset.version(), c))) {
          // Another stream that read it and has not taken it yet (a job started a little
          // earlier on the same order) shares its bytes: no second read.
          CompletableFuture<ByteBuffer> shared = borrow(this, dataset.version(), c);
          CompletableFuture<ByteBuffer> f = shared != null ? shared : loader.prefetch(dataset, c);
          synchronized (this) {
            if (!closed && !visited.get(c)) {
              staged.put(c, f);
            }
          }
        }
      }
    }

    /**
     * This stream's read of {@code chunk}, loaded or loading and not taken yet, or taken within
     * the last look-ahead; null when it holds none.
     */
    private synchronized CompletableFuture<ByteBuffer> held(int chunk) {
      CompletableFuture<ByteBuffer> f = staged.get(chunk);
      if (f != null) {
        return f;
      }
      WeakReference<ByteBuffer> w = taken.get(chunk);
      ByteBuffer b = w == null ? null : w.get();
      return b == null ? null : CompletableFuture.completedFuture(b);
    }

    /** Remembers a read the stream took, forgetting the oldest beyond one look-ahead. */
    private synchronized void keepTaken(int chunk, ByteBuffer read) {
      if (taken.put(chunk, new WeakReference<>(read)) == null) {
        takenBytes += bytes(chunk);
      }
      var oldest = taken.entrySet().iterator();
      while (takenBytes > lookaheadBytes && oldest.hasNext()) {
        takenBytes -= bytes(oldest.next().getKey());
        oldest.remove();
      }
    }

    private long bytes(int chunk) {
      return dataset.chunks().get(chunk).decodedBytes();
    }

    /** Chunks read ahead and not yet taken by the stream (for tests and metrics). */
    public synchronized int staged() {
      return staged.size();
    }

    /** Decoded bytes between what the stream took and what the prefetcher reached. */
    public synchronized long aheadBytes() {
      return ahead;
    }

    /** Ends the stream: leaves the registry and lets go of its staged reads. Idempotent. */
    @Override
    public void close() {
      synchronized (this) {
        closed = true;
        staged.clear();
        taken.clear();
        takenBytes = 0;
      }
      feeds.computeIfPresent(dataset.version(), (v, open) -> {
        open.remove(this);
        return open.isEmpty() ? null : open;
      });
      reg.close();
    }
  }
}
