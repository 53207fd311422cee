package dev.trainfeed.server.cache;

import java.util.Iterator;

/**
 * Decides which resident chunks a {@link ChunkCache} gives up to admit a new one, and whether to
 * admit it at all. The cache owns the byte and page accounting; a policy only orders chunks.
 *
 * <p>The cache calls every method while holding its own bookkeeping lock, one call at a time, so an
 * implementation needs no synchronization of its own; it must be cheap and must not call back into
 * the cache. One policy instance belongs to exactly one cache.
 *
 * <p>{@link LruEvictionPolicy} is the default. A policy that knows the future (every active stream's
 * chunk order) evicts the chunk whose next use is furthest away and refuses a candidate whose next
 * use is further than that of every resident chunk it would displace.
 */
public interface EvictionPolicy {

  /** {@code key}, of {@code bytes} decoded bytes, became resident (admitted or restored at open). */
  void onAdmit(ChunkKey key, long bytes);

  /** Resident chunk {@code key} served a read. */
  void onAccess(ChunkKey key);

  /** {@code key} stopped being resident: evicted, invalidated or dropped as damaged. */
  void onRemove(ChunkKey key);

  /**
   * Resident chunks in the order they should go to make room for {@code candidate} ({@code
   * candidateBytes} decoded bytes). The cache consumes the iterator only until enough room is
   * free, skips keys that are not resident or are still being written, and evicts nothing unless
   * the candidate is admitted. Yielding {@code candidate} itself means "do not admit the candidate";
   * an iterator that ends before enough room is found also refuses it.
   *
   * <p>The iterator is consumed before any callback above runs again, so it may be a live view.
   */
  Iterator<ChunkKey> evictionOrder(ChunkKey candidate, long candidateBytes);
}
