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
 *
 * <p>A chunk may be pinned ({@link #pin}) while a stream sends straight from its pages. A pinned
 * chunk is never an eviction victim; removing it ({@link #remove}) hides it at once but keeps it
 * as a ghost, still counted against the bounds and blocking re-admission of its key, until the
 * last {@link #unpin}, after which the caller deletes its pages and calls {@link #forget}.
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
    /** Readers sending from the pages now. */
    int pins;
    /** Removed while pinned: pages go when the last pin does. */
    boolean ghost;
    /** The pages' CRCs were checked (or written) by this process. */
    boolean verified;

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
  private final Map<ChunkKey, Resident> ghosts = new HashMap<>();
  private long pinned;
  private long pinnedBytes;
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
    if (ghosts.containsKey(key)) {
      return Admission.REFUSED; // its old pages are still being read
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
        if (r == null || !r.ready || r.pins > 0 || !chosen.add(next)) {
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
    if (residents.containsKey(key) || ghosts.containsKey(key)
        || !fits(chunkBytes, chunkPages, 0, 0)) {
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
    r.verified = true; // written from bytes just checked by the store
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

  /**
   * The readable entry for {@code key}, pinned (so never evicted, and kept as a ghost if removed)
   * until {@link #unpin}; records an access with the policy. Null when not readable.
   */
  synchronized Resident pin(ChunkKey key) {
    Resident r = acquireForRead(key);
    if (r != null) {
      if (r.pins++ == 0) {
        pinnedBytes += r.bytes;
      }
      pinned++;
    }
    return r;
  }

  /**
   * Drops one pin of {@code r}. Returns true when that was the last pin of a ghost: the caller
   * then deletes its pages and calls {@link #forget}.
   */
  synchronized boolean unpin(Resident r) {
    if (r.pins <= 0) {
      throw new IllegalStateException("chunk " + r.key + " is not pinned");
    }
    if (--r.pins == 0) {
      pinnedBytes -= r.bytes;
    }
    pinned--;
    if (pinned == 0) {
      notifyAll();
    }
    return r.ghost && r.pins == 0;
  }

  /** Whether {@code r} was removed while pinned and still waits for its last unpin. */
  synchronized boolean ghost(Resident r) {
    return r.ghost;
  }

  /**
   * Waits until no chunk is pinned, at most {@code nanos}; returns whether none is.
   *
   * @throws InterruptedException the wait was interrupted
   */
  synchronized boolean awaitNoPins(long nanos) throws InterruptedException {
    long deadline = System.nanoTime() + nanos;
    while (pinned > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }

  /** Releases a ghost's space once its pages are deleted. */
  synchronized void forget(Resident r) {
    if (ghosts.remove(r.key, r)) {
      bytes -= r.bytes;
      pages -= r.pages;
    }
  }

  /** Records that the pages of {@code r} passed their CRC check. */
  synchronized void markVerified(Resident r) {
    r.verified = true;
  }

  /** Whether the pages of {@code r} were checked (or written) by this process. */
  synchronized boolean verified(Resident r) {
    return r.verified;
  }

  /** Decoded bytes of the chunks pinned now (each counted once however many pins it has). */
  synchronized long pinnedBytes() {
    return pinnedBytes;
  }

  /** Pins held now, over all chunks. */
  synchronized long pins() {
    return pinned;
  }

  /** Whether {@code key} is readable. */
  synchronized boolean isReady(ChunkKey key) {
    Resident r = residents.get(key);
    return r != null && r.ready;
  }

  /**
   * Whether {@code key} has an entry, readable, still being written, or a ghost whose pages are
   * still being read.
   */
  synchronized boolean hasEntry(ChunkKey key) {
    return residents.containsKey(key) || ghosts.containsKey(key);
  }

  /**
   * Removes {@code key} if its generation is {@code generation}; returns whether it did. A pinned
   * entry becomes a ghost ({@link Resident#ghost}): its pages must stay until the last unpin.
   */
  synchronized boolean remove(ChunkKey key, long generation) {
    Resident r = residents.get(key);
    if (r == null || r.generation != generation) {
      return false;
    }
    removeEntry(r);
    return true;
  }

  /**
   * Removes {@code key} whatever its state; returns the removed entry or null. A pinned entry
   * becomes a ghost ({@link Resident#ghost}): its pages must stay until the last unpin.
   */
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
    policy.onRemove(r.key);
    if (r.pins > 0) {
      r.ghost = true;
      ghosts.put(r.key, r);
    } else {
      bytes -= r.bytes;
      pages -= r.pages;
    }
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
