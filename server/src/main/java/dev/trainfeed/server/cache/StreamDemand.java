package dev.trainfeed.server.cache;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * The registry of every active stream's future: for each stream, the chunks it will visit in
 * first-visit order, how far it has consumed them and how far its prefetch has reached. The
 * {@link ClairvoyantEvictionPolicy} reads it to know each chunk's next use; the {@link
 * ChunkPrefetcher} writes it.
 *
 * <p>It also remembers when each dataset version last had an active stream: a version whose last
 * stream ended less than {@link #idleAfterNanos()} ago is still <em>warm</em> (its next epoch is
 * probably about to start), older ones are <em>idle</em> and give their cache space back first.
 * A version never streamed since the registry was made counts as active at that moment, so a
 * cache restored at start is not given away in the first {@code idleAfter}.
 *
 * <p>Thread-safe: every method locks this object, and never calls out while holding it.
 */
public final class StreamDemand {
  /** Default {@code idleAfter}: 30 s. */
  public static final Duration DEFAULT_IDLE_AFTER = Duration.ofSeconds(30);

  private final LongSupplier nanoTicker;
  private final long idleAfterNanos;
  private final long createdAt;
  private final Map<String, List<Registration>> byVersion = new HashMap<>();
  private final Map<String, Long> lastActive = new HashMap<>();
  private int active;

  /** A registry on {@link System#nanoTime()} with {@link #DEFAULT_IDLE_AFTER}. */
  public StreamDemand() {
    this(System::nanoTime, DEFAULT_IDLE_AFTER);
  }

  /**
   * A registry with an injected monotonic clock.
   *
   * @param nanoTicker monotonic time in nanoseconds
   * @param idleAfter how long after its last stream ended a dataset version counts as idle; not
   *     negative
   */
  public StreamDemand(LongSupplier nanoTicker, Duration idleAfter) {
    this.nanoTicker = Objects.requireNonNull(nanoTicker, "nanoTicker");
    if (idleAfter.isNegative()) {
      throw new IllegalArgumentException("idleAfter must not be negative, got " + idleAfter);
    }
    this.idleAfterNanos = idleAfter.toNanos();
    this.createdAt = nanoTicker.getAsLong();
  }

  /** How long after its last stream a dataset version becomes idle, in nanoseconds. */
  public long idleAfterNanos() {
    return idleAfterNanos;
  }

  /** The registry's clock, in nanoseconds. */
  long now() {
    return nanoTicker.getAsLong();
  }

  /**
   * Registers a stream that will visit {@code sequence} of dataset version {@code version}.
   *
   * @param sequence distinct chunk indexes in first-visit order (copied)
   * @param numChunks chunks in the dataset; every entry of {@code sequence} is below it
   */
  public Registration register(String version, int[] sequence, int numChunks) {
    Objects.requireNonNull(version, "version");
    int[] index = new int[numChunks];
    Arrays.fill(index, -1);
    for (int i = 0; i < sequence.length; i++) {
      int c = sequence[i];
      if (c < 0 || c >= numChunks) {
        throw new IndexOutOfBoundsException("chunk " + c + " of " + numChunks);
      }
      if (index[c] >= 0) {
        throw new IllegalArgumentException("chunk " + c + " appears twice in the sequence");
      }
      index[c] = i;
    }
    Registration r = new Registration(version, sequence.clone(), index);
    synchronized (this) {
      byVersion.computeIfAbsent(version, v -> new ArrayList<>()).add(r);
      active++;
    }
    return r;
  }

  /** Active streams of {@code version}. */
  public synchronized int activeStreams(String version) {
    List<Registration> l = byVersion.get(version);
    return l == null ? 0 : l.size();
  }

  /** Active streams of every version. */
  public synchronized int activeStreams() {
    return active;
  }

  /**
   * Chunk-visits until the nearest registered stream visits {@code key}: 0 means it is the next
   * chunk some stream takes. -1 when no active stream will visit it again in its epoch. Streams
   * that {@linkplain Registration#hold hold} the chunk do not count.
   *
   * @param beyondPrefetch count only streams whose prefetch has not reached the chunk yet (the
   *     others hold it already or have it on the way, so they need no cached copy)
   */
  synchronized long nextUse(ChunkKey key, boolean beyondPrefetch) {
    List<Registration> l = byVersion.get(key.datasetVersion());
    if (l == null) {
      return -1;
    }
    long best = -1;
    for (Registration r : l) {
      if (key.chunk() >= r.index.length) {
        continue;
      }
      int idx = r.index[key.chunk()];
      int from = beyondPrefetch ? r.prefetched : r.consumed;
      // A stream holding its own copy (adopted at another stream's read) needs no cached one.
      if (idx >= from && !r.held.get(key.chunk())) {
        long d = idx - r.consumed;
        if (best < 0 || d < best) {
          best = d;
        }
      }
    }
    return best;
  }

  /**
   * Whether {@code version} has an active stream, or had one less than {@link #idleAfterNanos()}
   * ago.
   */
  synchronized boolean warm(String version) {
    List<Registration> l = byVersion.get(version);
    if (l != null && !l.isEmpty()) {
      return true;
    }
    return idleNanos(version) < idleAfterNanos;
  }

  /** Nanoseconds since {@code version} last had an active stream (0 while it has one). */
  synchronized long idleNanos(String version) {
    List<Registration> l = byVersion.get(version);
    if (l != null && !l.isEmpty()) {
      return 0;
    }
    return Math.max(0, now() - lastActive.getOrDefault(version, createdAt));
  }

  /**
   * Demand weight of {@code version} for sharing the cache: its active streams, or 1 while it is
   * warm without one (between two epochs), else 0.
   */
  synchronized int weight(String version) {
    int n = activeStreams(version);
    return n > 0 ? n : (warm(version) ? 1 : 0);
  }

  private synchronized void unregister(Registration r) {
    List<Registration> l = byVersion.get(r.version);
    if (l != null && l.remove(r)) {
      active--;
      if (l.isEmpty()) {
        byVersion.remove(r.version);
      }
      lastActive.put(r.version, now());
    }
  }

  /**
   * One stream's future: its chunk sequence and two cursors, {@code consumed} (chunks the stream
   * has taken) ≤ {@code prefetched} (chunks the prefetcher has reached). Closing it removes the
   * stream from the registry. Cursor updates lock the registry.
   */
  public final class Registration implements AutoCloseable {
    private final String version;
    private final int[] sequence;
    private final int[] index;
    /** Chunks ahead of the prefetch cursor the stream already holds a copy of; see {@link #hold}. */
    private final BitSet held = new BitSet();
    private int consumed;
    private int prefetched;
    private boolean closed;

    private Registration(String version, int[] sequence, int[] index) {
      this.version = version;
      this.sequence = sequence;
      this.index = index;
    }

    /** The dataset version. */
    public String version() {
      return version;
    }

    /** Chunks in the sequence. */
    public int length() {
      return sequence.length;
    }

    /** The chunk at {@code i} of the sequence. */
    public int chunkAt(int i) {
      return sequence[i];
    }

    /** Position of {@code chunk} in the sequence, or -1 when the stream never visits it. */
    public int indexOf(int chunk) {
      return chunk >= 0 && chunk < index.length ? index[chunk] : -1;
    }

    /** Chunks of the sequence the stream has taken (a prefix). */
    public int consumed() {
      synchronized (StreamDemand.this) {
        return consumed;
      }
    }

    /** Chunks of the sequence the prefetcher has reached (a prefix, at least {@link #consumed}). */
    public int prefetched() {
      synchronized (StreamDemand.this) {
        return prefetched;
      }
    }

    /**
     * Records that the stream took {@code chunk}: the consumed prefix grows through it.
     *
     * @return the old consumed count, or -1 when {@code chunk} was already consumed or is not
     *     in the sequence
     */
    public int consume(int chunk) {
      int idx = indexOf(chunk);
      synchronized (StreamDemand.this) {
        if (idx < consumed) {
          return -1;
        }
        int old = consumed;
        consumed = idx + 1;
        prefetched = Math.max(prefetched, consumed);
        return old;
      }
    }

    /** Moves the prefetch cursor one chunk on; returns the chunk it passed, or -1 at the end. */
    public int advancePrefetch() {
      synchronized (StreamDemand.this) {
        if (closed || prefetched >= sequence.length) {
          return -1;
        }
        return sequence[prefetched++];
      }
    }

    /**
     * Records that the stream takes a copy of {@code chunk} now, read for another stream, if the
     * chunk lies within {@code horizon} chunks past its prefetch cursor (so that what a stream
     * holds this way stays bounded). From then on the stream no longer counts for the chunk's
     * {@linkplain StreamDemand#nextUse next use}: a chunk that several streams read close
     * together is read once and held by each, instead of taking a cached chunk's place.
     *
     * @param horizon chunks past the prefetch cursor the stream may hold, at least 1
     * @return whether the stream should now hold the chunk: false when it is behind the
     *     prefetch cursor (loaded or loading for this stream already), beyond the horizon, not
     *     in the sequence, already held, or the stream is closed
     */
    public boolean hold(int chunk, int horizon) {
      int idx = indexOf(chunk);
      synchronized (StreamDemand.this) {
        if (closed || idx < prefetched || idx >= (long) prefetched + horizon || held.get(chunk)) {
          return false;
        }
        held.set(chunk);
        return true;
      }
    }

    /** Removes the stream from the registry. Idempotent. */
    @Override
    public void close() {
      synchronized (StreamDemand.this) {
        if (!closed) {
          closed = true;
          unregister(this);
        }
      }
    }
  }
}
