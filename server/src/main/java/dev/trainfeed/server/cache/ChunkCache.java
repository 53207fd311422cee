package dev.trainfeed.server.cache;

import java.nio.ByteBuffer;

/**
 * A byte-bounded cache of decoded chunks. Implementations are thread-safe, never return damaged
 * bytes (a page that fails its check is dropped and reported as a miss), and pass
 * {@code ChunkCacheContract}.
 */
public interface ChunkCache extends AutoCloseable {

  /**
   * The cached decoded bytes of {@code key}, or null when absent. The buffer stays valid however
   * the cache changes later. It may be array-backed so that the transport can write from the array
   * without a bounce copy; callers treat it as read-only.
   */
  ByteBuffer get(ChunkKey key);

  /**
   * The cached decoded bytes of {@code key} for one stream to send from, or null when absent;
   * the caller must {@link ChunkBytes#release()} them when it no longer reads them. A cache may
   * hand out views of its own memory, pinned until then (so evictions and invalidations of the
   * chunk wait for the release); the default copies, as {@link #get} does.
   */
  default ChunkBytes lease(ChunkKey key) {
    ByteBuffer b = get(key);
    return b == null ? null : ChunkBytes.of(b);
  }

  /**
   * Admits the decoded bytes of {@code key}, evicting others as the policy decides.
   *
   * @return false when the chunk was not admitted (for example, larger than the capacity)
   */
  boolean put(ChunkKey key, ByteBuffer decoded);

  /** Whether {@code key} is cached. */
  boolean contains(ChunkKey key);

  /** Removes {@code key} if present. */
  void invalidate(ChunkKey key);

  /** Bytes of chunk data held now. */
  long sizeBytes();

  /** The configured bound on {@link #sizeBytes()}. */
  long capacityBytes();

  /**
   * Decoded bytes of the chunks streams hold pinned now ({@link #lease}): they count against
   * {@link #capacityBytes()} and cannot be evicted until released. 0 for caches that copy.
   */
  default long pinnedBytes() {
    return 0;
  }

  /** Chunks evicted since the cache was opened. */
  long evictions();

  @Override
  void close();
}
