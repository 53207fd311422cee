package dev.trainfeed.server.cache;

import java.util.Iterator;
import java.util.LinkedHashMap;

/**
 * Least-recently-used order over whole chunks: a read or an admission makes a chunk the most
 * recent; the least recent goes first. Admits every candidate that fits the capacity. Not
 * thread-safe on its own; see {@link EvictionPolicy}.
 */
public final class LruEvictionPolicy implements EvictionPolicy {
  /** Access-ordered: iteration runs from least to most recently used. */
  private final LinkedHashMap<ChunkKey, Boolean> order = new LinkedHashMap<>(64, 0.75f, true);

  /** Creates an empty policy. */
  public LruEvictionPolicy() {}

  @Override
  public void onAdmit(ChunkKey key, long bytes) {
    order.put(key, Boolean.TRUE);
  }

  @Override
  public void onAccess(ChunkKey key) {
    order.get(key);
  }

  @Override
  public void onRemove(ChunkKey key) {
    order.remove(key);
  }

  @Override
  public Iterator<ChunkKey> evictionOrder(ChunkKey candidate, long candidateBytes) {
    return order.keySet().iterator();
  }
}
