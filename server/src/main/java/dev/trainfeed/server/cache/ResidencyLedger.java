package dev.trainfeed.server.cache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The in-memory index a cache keeps beside its data: which chunks are resident, their sizes, the
 * byte and page totals, and the eviction policy. Admission reserves space before the data is
 * written, so the accounted totals never exceed the bounds, even while writes are in flight.
 * All methods are synchronized on this object.
 */
final class ResidencyLedger {

  /** One resident (or being-written) chunk. */
  static final class Resident {
    final ChunkKey key;
    final long bytes;
    final int pages;
    final long generation;
    boolean ready;

    Resident(ChunkKey key, long bytes, int pages, long generation, boolean ready) {
      this.key = key;
      this.bytes = bytes;
      this.pages = pages;
      this.generation = generation;
      this.ready = ready;
    }
  }

  /** What {@link #reserve} decided. */
  enum Outcome {
    /** Space reserved; write the data, then call {@link #markReady}. */
    ADMITTED,
    /** The chunk is already resident or being written; nothing to do. */
    ALREADY_PRESENT,
    /** Not admitted: larger than the bounds, or the policy declined. */
    REFUSED
  }

  /** The result of {@link #reserve}: the outcome, the reservation's generation, the evicted. */
  record Admission(Outcome outcome, long generation, List<Resident> evicted) {
    static final Admission ALREADY = new Admission(Outcome.ALREADY_PRESENT, -1, List.of());
    static final Admission REFUSED = new Admission(Outcome.REFUSED, -1, List.of());
  }

  private final long capacityBytes;
  private final long pageBudget;
  private final EvictionPolicy policy;
  private final Map<ChunkKey, Resident> residents = new HashMap<>();
  private long bytes;
  private long pages;
  private long evictions;
  private long nextGeneration = 1;

  ResidencyLedger(long capacityBytes, long pageBudget, EvictionPolicy policy) {
    this.capacityBytes = capacityBytes;
    this.pageBudget = pageBudget;
    this.policy = Objects.requireNonNull(policy, "policy");
  }

  /**
   * Reserves room for {@code key}, evicting what the policy chooses. Evicted chunks leave the
   * ledger at once; the caller deletes their data afterwards.
   */
  synchronized Admission reserve(ChunkKey key, long chunkBytes, int chunkPages) {
    if (residents.containsKey(key)) {
      return Admission.ALREADY;
    }
    if (chunkBytes > capacityBytes || chunkPages > pageBudget) {
      return Admission.REFUSED;
    }
    List<Resident> victims = List.of();
    if (!fits(chunkBytes, chunkPages, 0, 0)) {
      victims = new ArrayList<>();
      Set<ChunkKey> chosen = new HashSet<>();
      long freedBytes = 0;
      long freedPages = 0;
      Iterator<ChunkKey> order = policy.evictionOrder(key, chunkBytes);
      while (!fits(chunkBytes, chunkPages, freedBytes, freedPages)) {
        if (!order.hasNext()) {
          return Admission.REFUSED;
        }
        ChunkKey next = order.next();
        if (next.equals(key)) {
          return Admission.REFUSED;
        }
        Resident r = residents.get(next);
        if (r == null || !r.ready || !chosen.add(next)) {
          continue;
        }
        victims.add(r);
        freedBytes += r.bytes;
        freedPages += r.pages;
      }
      for (Resident r : victims) {
        removeEntry(r);
        evictions++;
      }
    }
    Resident mine = new Resident(key, chunkBytes, chunkPages, nextGeneration++, false);
    addEntry(mine);
    return new Admission(Outcome.ADMITTED, mine.generation, victims);
  }

  private boolean fits(long chunkBytes, int chunkPages, long freedBytes, long freedPages) {
    return bytes - freedBytes + chunkBytes <= capacityBytes
        && pages - freedPages + chunkPages <= pageBudget;
  }

  /**
   * Adds a chunk found complete at open, already readable. Returns false (and changes nothing)
   * when it does not fit.
   */
  synchronized boolean restore(ChunkKey key, long chunkBytes, int chunkPages) {
    if (residents.containsKey(key) || !fits(chunkBytes, chunkPages, 0, 0)) {
      return false;
    }
    addEntry(new Resident(key, chunkBytes, chunkPages, nextGeneration++, true));
    return true;
  }

  /** Marks reservation {@code generation} of {@code key} readable; false if it was removed. */
  synchronized boolean markReady(ChunkKey key, long generation) {
    Resident r = residents.get(key);
    if (r == null || r.generation != generation) {
      return false;
    }
    r.ready = true;
    return true;
  }

  /** The readable entry for {@code key}, recording an access with the policy; or null. */
  synchronized Resident acquireForRead(ChunkKey key) {
    Resident r = residents.get(key);
    if (r == null || !r.ready) {
      return null;
    }
    policy.onAccess(key);
    return r;
  }

  /** Whether {@code key} is readable. */
  synchronized boolean isReady(ChunkKey key) {
    Resident r = residents.get(key);
    return r != null && r.ready;
  }

  /** Whether {@code key} has an entry, readable or still being written. */
  synchronized boolean hasEntry(ChunkKey key) {
    return residents.containsKey(key);
  }

  /** Removes {@code key} if its generation is {@code generation}; returns whether it did. */
  synchronized boolean remove(ChunkKey key, long generation) {
    Resident r = residents.get(key);
    if (r == null || r.generation != generation) {
      return false;
    }
    removeEntry(r);
    return true;
  }

  /** Removes {@code key} whatever its state; returns the removed entry or null. */
  synchronized Resident remove(ChunkKey key) {
    Resident r = residents.get(key);
    if (r != null) {
      removeEntry(r);
    }
    return r;
  }

  /** Forgets every entry (telling the policy), keeping the eviction count. */
  synchronized void clear() {
    for (Resident r : new ArrayList<>(residents.values())) {
      removeEntry(r);
    }
  }

  private void addEntry(Resident r) {
    residents.put(r.key, r);
    bytes += r.bytes;
    pages += r.pages;
    policy.onAdmit(r.key, r.bytes);
  }

  private void removeEntry(Resident r) {
    residents.remove(r.key);
    bytes -= r.bytes;
    pages -= r.pages;
    policy.onRemove(r.key);
  }

  synchronized long sizeBytes() {
    return bytes;
  }

  synchronized long pagesInUse() {
    return pages;
  }

  synchronized long evictions() {
    return evictions;
  }

  synchronized int chunkCount() {
    return residents.size();
  }

  long capacityBytes() {
    return capacityBytes;
  }

  long pageBudget() {
    return pageBudget;
  }
}
