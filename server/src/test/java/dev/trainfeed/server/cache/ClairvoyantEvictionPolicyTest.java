package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Admission and eviction decisions on a small heap cache, with an injected clock. */
class ClairvoyantEvictionPolicyTest {
  private static final int B = 100;
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final StreamDemand demand = new StreamDemand(clock::get, Duration.ofSeconds(30));
  private final HeapChunkCache cache = HeapChunkCache.builder().capacityBytes(3L * B)
      .evictionPolicy(() -> new ClairvoyantEvictionPolicy(demand)).build();

  @AfterEach
  void close() {
    cache.close();
  }

  private boolean put(String version, int chunk) {
    clock.addAndGet(1_000_000);
    return cache.put(new ChunkKey(version, chunk), TestChunks.bytes(version, chunk, B));
  }

  private boolean cached(String version, int chunk) {
    return cache.contains(new ChunkKey(version, chunk));
  }

  /** Takes chunks 0 … n-1 of the sequence, as a stream does, with the prefetcher ahead of it. */
  private static void visit(StreamDemand.Registration r, int n) {
    for (int i = 0; i < n; i++) {
      r.consume(r.chunkAt(i));
    }
  }

  @Test
  void fullCacheKeepsWhatItHoldsAgainstChunksStreamedPastIt() {
    var r = demand.register("v", new int[] {0, 1, 2, 3, 4, 5}, 6);
    put("v", 0);
    put("v", 1);
    put("v", 2);
    visit(r, 4);
    // Chunk 3 is held by the stream that fetched it; no stream needs a cached copy.
    assertThat(put("v", 3)).isFalse();
    assertThat(cached("v", 0) && cached("v", 1) && cached("v", 2)).isTrue();
    assertThat(cache.evictions()).isZero();
  }

  @Test
  void evictsTheFurthestNextUseForASoonerOne() {
    put("v", 0);
    put("v", 1);
    put("v", 2);
    // A leading stream has taken chunk 3; a lagging one visits 1, 3, 0, 2 next.
    var lead = demand.register("v", new int[] {3}, 4);
    var lag = demand.register("v", new int[] {1, 3, 0, 2}, 4);
    visit(lead, 1);
    assertThat(put("v", 3)).isTrue();
    assertThat(cached("v", 2)).as("furthest next use goes").isFalse();
    assertThat(cached("v", 0) && cached("v", 1)).isTrue();
    // A candidate needed after every resident is refused.
    lead.close();
    lag.close();
    var late = demand.register("v", new int[] {3, 0, 1, 2}, 4);
    assertThat(put("v", 2)).isFalse();
    late.close();
  }

  @Test
  void idleDatasetGivesItsSpaceBackOldestFirstAfterTheGrace() {
    var old = demand.register("old", new int[] {0, 1, 2}, 3);
    put("old", 0);
    put("old", 1);
    put("old", 2);
    clock.addAndGet(1_000_000);
    cache.get(new ChunkKey("old", 0)); // 0 is now the most recently used
    old.close();
    var fresh = demand.register("new", new int[] {0, 1}, 2);
    visit(fresh, 2);
    assertThat(put("new", 0)).as("a newcomer gets its share at once").isTrue();
    assertThat(put("new", 1)).as("within the grace the old dataset keeps its share").isFalse();

    clock.addAndGet(Duration.ofSeconds(31).toNanos());
    assertThat(put("new", 1)).isTrue();
    assertThat(cache.contains(new ChunkKey("old", 0))).as("most recently used idle stays")
        .isTrue();
    assertThat(cache.chunkCount()).isEqualTo(3);
    fresh.close();
  }

  @Test
  void newcomerGetsItsShareFromAnActiveDatasetWithoutAnEpochBoundary() {
    var a = demand.register("a", new int[] {0, 1, 2, 3}, 4);
    put("a", 0);
    put("a", 1);
    put("a", 2);
    visit(a, 4); // a's epoch has passed them all: warm, not needed again this epoch
    var b = demand.register("b", new int[] {0, 1, 2}, 3);
    visit(b, 3);
    assertThat(put("b", 0)).as("b holds nothing; its share is 1.5 chunks").isTrue();
    assertThat(put("b", 1)).as("a second chunk would take b over its share").isFalse();
    assertThat(cache.sizeBytes()).isEqualTo(3L * B);
    a.close();
    b.close();
  }

  @Test
  void withoutStreamsAndAfterTheGraceItBehavesLikeLru() {
    put("x", 0);
    put("x", 1);
    put("x", 2);
    clock.addAndGet(Duration.ofMinutes(1).toNanos());
    cache.get(new ChunkKey("x", 0));
    assertThat(put("x", 3)).isTrue();
    assertThat(cached("x", 1)).isFalse();
    assertThat(cached("x", 0)).isTrue();
  }
}
