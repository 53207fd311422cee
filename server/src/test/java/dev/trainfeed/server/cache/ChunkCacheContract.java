package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ChunkCache} must do. Subclasses supply the cache; the default policy (LRU) is
 * assumed where a test checks which chunk went.
 */
abstract class ChunkCacheContract {

  /** Page size used by paged implementations in these tests. */
  static final int PAGE = 1024;

  private final List<ChunkCache> opened = new ArrayList<>();

  /** A new, empty cache bounded at {@code capacityBytes}, pages of {@link #PAGE} if paged. */
  protected abstract ChunkCache create(long capacityBytes) throws Exception;

  protected final ChunkCache newCache(long capacityBytes) throws Exception {
    ChunkCache c = create(capacityBytes);
    opened.add(c);
    return c;
  }

  @AfterEach
  void closeCaches() {
    opened.forEach(ChunkCache::close);
  }

  static ChunkKey key(int chunk) {
    return new ChunkKey("v1a2b3c4d5e6f7081", chunk);
  }

  static void assertChunk(ByteBuffer got, ChunkKey key, int length) {
    assertThat(got).isNotNull();
    assertThat(got.position()).isZero();
    assertThat(got.remaining()).isEqualTo(length);
    assertThat(got.order()).isEqualTo(ByteOrder.LITTLE_ENDIAN);
    assertThat(TestChunks.toArray(got)).isEqualTo(TestChunks.toArray(TestChunks.bytes(key, length)));
  }

  @Test
  void roundTripsChunksOfManySizes() throws Exception {
    ChunkCache cache = newCache(16L << 20);
    int[] sizes = {1, 7, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE, 3 * PAGE + 5, 100_003, 3 << 20};
    for (int i = 0; i < sizes.length; i++) {
      assertThat(cache.put(key(i), TestChunks.bytes(key(i), sizes[i]))).isTrue();
    }
    long total = 0;
    for (int i = 0; i < sizes.length; i++) {
      assertThat(cache.contains(key(i))).isTrue();
      assertChunk(cache.get(key(i)), key(i), sizes[i]);
      total += sizes[i];
    }
    assertThat(cache.sizeBytes()).isEqualTo(total);
    assertThat(cache.evictions()).isZero();
  }

  @Test
  void putReadsFromPositionToLimitWithoutMovingThemOrKeepingTheArray() throws Exception {
    ChunkCache cache = newCache(1 << 20);
    byte[] expected = TestChunks.toArray(TestChunks.bytes(key(0), 3000));
    byte[] padded = new byte[3100];
    System.arraycopy(expected, 0, padded, 50, expected.length);
    ByteBuffer src = ByteBuffer.wrap(padded, 50, 3000);
    assertThat(cache.put(key(0), src)).isTrue();
    assertThat(src.position()).isEqualTo(50);
    assertThat(src.limit()).isEqualTo(3050);
    java.util.Arrays.fill(padded, (byte) 0x55);
    assertChunk(cache.get(key(0)), key(0), 3000);
  }

  @Test
  void missingChunkIsNull() throws Exception {
    ChunkCache cache = newCache(1 << 20);
    assertThat(cache.get(key(42))).isNull();
    assertThat(cache.contains(key(42))).isFalse();
    cache.put(key(1), TestChunks.bytes(key(1), 10));
    assertThat(cache.get(new ChunkKey("other-version", 1))).isNull();
  }

  @Test
  void putOfAPresentChunkDoesNotCountTwice() throws Exception {
    ChunkCache cache = newCache(1 << 20);
    assertThat(cache.put(key(0), TestChunks.bytes(key(0), 5000))).isTrue();
    assertThat(cache.put(key(0), TestChunks.bytes(key(0), 5000))).isTrue();
    assertThat(cache.sizeBytes()).isEqualTo(5000);
  }

  @Test
  void invalidateRemovesAndFreesSpace() throws Exception {
    ChunkCache cache = newCache(1 << 20);
    cache.put(key(0), TestChunks.bytes(key(0), 5000));
    cache.put(key(1), TestChunks.bytes(key(1), 7000));
    cache.invalidate(key(0));
    cache.invalidate(key(99));
    assertThat(cache.get(key(0))).isNull();
    assertThat(cache.contains(key(0))).isFalse();
    assertThat(cache.sizeBytes()).isEqualTo(7000);
    assertThat(cache.evictions()).isZero();
    assertThat(cache.put(key(0), TestChunks.bytes(key(0), 5000))).isTrue();
    assertChunk(cache.get(key(0)), key(0), 5000);
  }

  @Test
  void evictsLeastRecentlyUsedAndCountsEvictions() throws Exception {
    int chunk = 8 * PAGE;
    ChunkCache cache = newCache(4L * chunk);
    for (int i = 0; i < 4; i++) {
      assertThat(cache.put(key(i), TestChunks.bytes(key(i), chunk))).isTrue();
    }
    assertThat(cache.get(key(0))).isNotNull(); // 0 is now the most recent
    assertThat(cache.put(key(4), TestChunks.bytes(key(4), chunk))).isTrue();
    assertThat(cache.put(key(5), TestChunks.bytes(key(5), chunk))).isTrue();
    assertThat(cache.evictions()).isEqualTo(2);
    assertThat(cache.contains(key(1))).isFalse();
    assertThat(cache.contains(key(2))).isFalse();
    for (int i : new int[] {0, 3, 4, 5}) {
      assertChunk(cache.get(key(i)), key(i), chunk);
    }
    assertThat(cache.sizeBytes()).isEqualTo(4L * chunk);
  }

  @Test
  void refusesAChunkLargerThanTheCapacityWithoutEvicting() throws Exception {
    ChunkCache cache = newCache(16L * PAGE);
    cache.put(key(0), TestChunks.bytes(key(0), 4 * PAGE));
    assertThat(cache.put(key(1), TestChunks.bytes(key(1), 16 * PAGE + 1))).isFalse();
    assertThat(cache.contains(key(1))).isFalse();
    assertThat(cache.contains(key(0))).isTrue();
    assertThat(cache.evictions()).isZero();
    assertThat(cache.put(key(2), TestChunks.bytes(key(2), 16 * PAGE))).isTrue();
    assertThat(cache.evictions()).isEqualTo(1);
  }

  @Test
  void byteBoundIsNeverExceededUnderManyPuts() throws Exception {
    long capacity = 64L * PAGE;
    ChunkCache cache = newCache(capacity);
    Random rnd = new Random(7);
    for (int i = 0; i < 600; i++) {
      int size = 1 + rnd.nextInt(rnd.nextBoolean() ? 200 : 12 * PAGE);
      ChunkKey k = key(rnd.nextInt(150));
      cache.put(k, TestChunks.bytes(k, size));
      assertThat(cache.sizeBytes()).isLessThanOrEqualTo(capacity);
    }
    assertThat(cache.evictions()).isPositive();
    long held = 0;
    for (int i = 0; i < 150; i++) {
      ByteBuffer b = cache.get(key(i));
      if (b != null) {
        held += b.remaining();
      }
    }
    assertThat(held).isEqualTo(cache.sizeBytes());
  }

  @Test
  void returnedBuffersSurviveEvictionAndWritesCannotReachTheCache() throws Exception {
    int chunk = 10 * PAGE;
    ChunkCache cache = newCache(2L * chunk);
    cache.put(key(0), TestChunks.bytes(key(0), chunk));
    ByteBuffer held = cache.get(key(0));
    for (int i = 1; i <= 4; i++) {
      cache.put(key(i), TestChunks.bytes(key(i), chunk));
    }
    cache.invalidate(key(4));
    assertThat(cache.contains(key(0))).isFalse();
    assertChunk(held, key(0), chunk);
    // A buffer handed out is read-only or the caller's own copy: writing it never changes the cache.
    cache.put(key(5), TestChunks.bytes(key(5), chunk));
    ByteBuffer first = cache.get(key(5));
    if (!first.isReadOnly()) {
      first.put(0, (byte) (first.get(0) + 1));
    }
    assertChunk(cache.get(key(5)), key(5), chunk);
  }

  @Test
  void concurrentPutsAndGetsStayBoundedAndNeverReturnWrongBytes() throws Exception {
    long capacity = 96L * PAGE;
    ChunkCache cache = newCache(capacity);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicLong hits = new AtomicLong();
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int seed = t;
        futures.add(pool.submit(() -> {
          Random rnd = new Random(seed);
          for (int i = 0; i < 400; i++) {
            int c = rnd.nextInt(40);
            int length = lengthOf(c);
            ChunkKey k = key(c);
            switch (rnd.nextInt(8)) {
              case 0:
                cache.invalidate(k);
                break;
              case 1:
              case 2:
              case 3:
                cache.put(k, TestChunks.bytes(k, length));
                break;
              default:
                ByteBuffer b = cache.get(k);
                if (b != null) {
                  hits.incrementAndGet();
                  assertChunk(b, k, length);
                }
            }
            assertThat(cache.sizeBytes()).isLessThanOrEqualTo(capacity);
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(hits.get()).isPositive();
    long held = 0;
    for (int c = 0; c < 40; c++) {
      ByteBuffer b = cache.get(key(c));
      if (b != null) {
        assertChunk(b, key(c), lengthOf(c));
        held += b.remaining();
      }
    }
    assertThat(held).isEqualTo(cache.sizeBytes());
  }

  private static int lengthOf(int chunk) {
    return 1 + (chunk * 7919) % (8 * PAGE);
  }

  static void assertLease(ChunkBytes got, ChunkKey key, int length) {
    assertThat(got).isNotNull();
    assertThat(got.length()).isEqualTo(length);
    assertThat(TestChunks.toArray(got)).isEqualTo(TestChunks.toArray(TestChunks.bytes(key, length)));
  }

  @Test
  void leasesRoundTripChunksOfManySizes() throws Exception {
    ChunkCache cache = newCache(16L << 20);
    int[] sizes = {1, 7, PAGE - 1, PAGE, PAGE + 1, 3 * PAGE + 5, 100_003};
    for (int i = 0; i < sizes.length; i++) {
      assertThat(cache.put(key(i), TestChunks.bytes(key(i), sizes[i]))).isTrue();
    }
    for (int i = 0; i < sizes.length; i++) {
      ChunkBytes b = cache.lease(key(i));
      assertLease(b, key(i), sizes[i]);
      b.release();
    }
    assertThat(cache.lease(key(99))).isNull();
  }

  @Test
  void leasedBytesStayIntactThroughInvalidationAndEvictionUntilReleased() throws Exception {
    int chunk = 10 * PAGE + 3;
    ChunkCache cache = newCache(3L * chunk);
    cache.put(key(0), TestChunks.bytes(key(0), chunk));
    cache.put(key(1), TestChunks.bytes(key(1), chunk));
    ChunkBytes invalidated = cache.lease(key(0));
    ChunkBytes crowded = cache.lease(key(1));
    cache.invalidate(key(0));
    assertThat(cache.contains(key(0))).isFalse();
    assertThat(cache.lease(key(0))).isNull();
    for (int i = 2; i <= 6; i++) {
      cache.put(key(i), TestChunks.bytes(key(i), chunk));
      assertThat(cache.sizeBytes()).isLessThanOrEqualTo(cache.capacityBytes());
    }
    assertLease(invalidated, key(0), chunk);
    assertLease(crowded, key(1), chunk);
    invalidated.release();
    crowded.release();
    invalidated.release();
    for (int i = 7; i <= 9; i++) {
      cache.put(key(i), TestChunks.bytes(key(i), chunk));
    }
    ChunkBytes last = cache.lease(key(9));
    assertLease(last, key(9), chunk);
    last.release();
    assertThat(cache.sizeBytes()).isLessThanOrEqualTo(cache.capacityBytes());
  }

  @Test
  void closedCacheRejectsCalls() throws Exception {
    ChunkCache cache = newCache(1 << 20);
    cache.close();
    cache.close();
    assertThatThrownBy(() -> cache.get(key(0))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> cache.lease(key(0))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> cache.put(key(0), ByteBuffer.allocate(1)))
        .isInstanceOf(IllegalStateException.class);
  }
}
