package dev.trainfeed.server.cache;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Admission and eviction by the future that {@link StreamDemand} knows: Belady's rule over the
 * registered streams' chunk sequences, plus a rule for what lies beyond them.
 *
 * <p>Every resident chunk falls in one of three tiers:
 *
 * <ol>
 *   <li><b>needed</b>: an active stream will still visit it this epoch; ranked by the distance
 *       to its nearest next visit (in chunk visits);
 *   <li><b>warm</b>: no active stream needs it again this epoch, but its dataset is streamed now
 *       or was within {@link StreamDemand#idleAfterNanos()}; the next epoch will want it;
 *   <li><b>idle</b>: its dataset has had no stream for longer than that.
 * </ol>
 *
 * Victims go idle first (longest unused first), then warm (least recently used first), then
 * needed (furthest next use first). A candidate is ranked the same way, except that streams whose
 * prefetch already holds it do not count (they need no cached copy), and it is admitted only by
 * evicting chunks it beats: a needed candidate beats a needed victim with a further next use and
 * every warm or idle victim; a warm candidate beats idle victims, and warm victims of a dataset
 * that holds more than its share of the cache while the candidate's stays within its share with
 * the candidate (the share of a dataset is proportional to its active streams, a warm dataset
 * between two epochs counting one); an idle candidate beats only idle victims. So a
 * full cache keeps what it holds for later epochs (the chunks streamed past it are staged by the
 * prefetcher, not cached), reads per epoch fall to {@code (1 − C/N)} of the dataset, an idle
 * dataset gives its space back at once and a newcomer gets its share without waiting for an epoch
 * boundary.
 *
 * <p>Each eviction decision ranks every resident chunk: O(residents × streams of the dataset).
 * Not thread-safe on its own; see {@link EvictionPolicy}.
 */
public final class ClairvoyantEvictionPolicy implements EvictionPolicy {
  private static final int NEEDED = 0;
  private static final int WARM = 1;
  private static final int IDLE = 2;

  private final StreamDemand demand;
  /** Resident chunk → its bytes and the clock reading of its last admission or read. */
  private final Map<ChunkKey, long[]> residents = new HashMap<>();
  private final Map<String, Long> bytesByVersion = new HashMap<>();
  private long totalBytes;

  /** A policy that reads the future from {@code demand} (shared with the prefetcher). */
  public ClairvoyantEvictionPolicy(StreamDemand demand) {
    this.demand = Objects.requireNonNull(demand, "demand");
  }

  @Override
  public void onAdmit(ChunkKey key, long bytes) {
    long[] old = residents.put(key, new long[] {bytes, demand.now()});
    if (old != null) {
      addBytes(key.datasetVersion(), -old[0]);
    }
    addBytes(key.datasetVersion(), bytes);
  }

  @Override
  public void onAccess(ChunkKey key) {
    long[] r = residents.get(key);
    if (r != null) {
      r[1] = demand.now();
    }
  }

  @Override
  public void onRemove(ChunkKey key) {
    long[] r = residents.remove(key);
    if (r != null) {
      addBytes(key.datasetVersion(), -r[0]);
    }
  }

  private void addBytes(String version, long delta) {
    totalBytes += delta;
    long v = bytesByVersion.getOrDefault(version, 0L) + delta;
    if (v == 0) {
      bytesByVersion.remove(version);
    } else {
      bytesByVersion.put(version, v);
    }
  }

  /** Where a chunk stands: its tier, and within it the order key (larger goes first). */
  private record Rank(ChunkKey key, int tier, long order) {}

  private Rank rank(ChunkKey key, boolean candidate, long now) {
    long next = demand.nextUse(key, candidate);
    if (next >= 0) {
      return new Rank(key, NEEDED, next);
    }
    long[] r = residents.get(key);
    long idleFor = r == null ? 0 : now - r[1];
    return new Rank(key, demand.warm(key.datasetVersion()) ? WARM : IDLE, idleFor);
  }

  @Override
  public Iterator<ChunkKey> evictionOrder(ChunkKey candidate, long candidateBytes) {
    long now = demand.now();
    Rank cand = rank(candidate, true, now);
    // Shares of the cache by demand, over the datasets held and the candidate's.
    long weights = demand.weight(candidate.datasetVersion());
    for (String v : bytesByVersion.keySet()) {
      if (!v.equals(candidate.datasetVersion())) {
        weights += demand.weight(v);
      }
    }
    // The cache is full when a policy is asked, so what it holds is its capacity.
    long room = totalBytes;
    Map<String, Boolean> overShare = new HashMap<>();
    boolean candUnderShare = cand.tier == WARM && bytesByVersion.getOrDefault(
        candidate.datasetVersion(), 0L) + candidateBytes <= share(candidate.datasetVersion(),
        weights, room);
    List<Rank> victims = new ArrayList<>();
    for (ChunkKey k : residents.keySet()) {
      Rank v = rank(k, false, now);
      if (beats(cand, v, candUnderShare, overShare, weights, room)) {
        victims.add(v);
      }
    }
    victims.sort(Comparator.comparingInt(Rank::tier).reversed()
        .thenComparing(Comparator.comparingLong(Rank::order).reversed()));
    List<ChunkKey> order = new ArrayList<>(victims.size());
    for (Rank v : victims) {
      order.add(v.key);
    }
    return order.iterator();
  }

  private boolean beats(Rank cand, Rank victim, boolean candUnderShare,
      Map<String, Boolean> overShare, long weights, long room) {
    if (victim.tier != cand.tier) {
      return victim.tier > cand.tier;
    }
    switch (victim.tier) {
      case NEEDED:
        return victim.order > cand.order;
      case IDLE:
        return true;
      default:
        String v = victim.key.datasetVersion();
        return candUnderShare && !v.equals(cand.key.datasetVersion())
            && overShare.computeIfAbsent(v, x -> bytesByVersion.getOrDefault(x, 0L)
                > share(x, weights, room));
    }
  }

  /** The bytes {@code version} may hold: its demand's part of {@code room}. */
  private long share(String version, long weights, long room) {
    return weights == 0 ? 0 : room * demand.weight(version) / weights;
  }
}
