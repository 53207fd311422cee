package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChronicleChunkCacheTest extends ChunkCacheContract {

  @TempDir Path dir;
  private int created;

  @Override
  protected ChunkCache create(long capacityBytes) throws Exception {
    return open(dir.resolve("c" + (created++)).resolve("chunks.cmap"), capacityBytes);
  }

  private static ChronicleChunkCache open(Path file, long capacityBytes) throws Exception {
    return ChronicleChunkCache.builder().file(file).capacityBytes(capacityBytes).pageSize(PAGE)
        .build();
  }

  private Path file() {
    return dir.resolve("chunks.cmap");
  }

  /** Fills a cache at {@link #file()} with chunks 0..n-1 of varied sizes and closes it cleanly. */
  private void fillAndClose(int n) throws Exception {
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      for (int i = 0; i < n; i++) {
        assertThat(cache.put(key(i), TestChunks.bytes(key(i), sizeOf(i)))).isTrue();
      }
    }
  }

  private static int sizeOf(int chunk) {
    return 1 + chunk * 1500;
  }

  private void assertEmptyAndUsable(ChronicleChunkCache cache) {
    assertThat(cache.openedWarm()).isFalse();
    assertThat(cache.sizeBytes()).isZero();
    assertThat(cache.get(key(1))).isNull();
    assertThat(cache.put(key(1), TestChunks.bytes(key(1), 4000))).isTrue();
    assertChunk(cache.get(key(1)), key(1), 4000);
  }

  @Test
  void setsAnalyticsOffBeforeChronicleLoads() {
    ChronicleChunkCache.builder(); // initializes the class
    assertThat(System.getProperty("chronicle.analytics.disable")).isEqualTo("true");
  }

  @Test
  void reopensWarmAfterCleanClose() throws Exception {
    fillAndClose(6);
    String sidecar = Files.readString(ChronicleChunkCache.sidecarPath(file()));
    assertThat(sidecar).contains("\"cleanShutdown\" : true").contains("\"pageSize\" : 1024")
        .contains("\"chronicleMapVersion\" : \"2026.1\"");
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertThat(cache.openedWarm()).isTrue();
      assertThat(cache.chunkCount()).isEqualTo(6);
      long total = 0;
      for (int i = 0; i < 6; i++) {
        assertChunk(cache.get(key(i)), key(i), sizeOf(i));
        total += sizeOf(i);
      }
      assertThat(cache.sizeBytes()).isEqualTo(total);
      assertThat(Files.readString(ChronicleChunkCache.sidecarPath(file())))
          .contains("\"cleanShutdown\" : false");
    }
  }

  @Test
  void recreatesEmptyAfterAnUncleanStop() throws Exception {
    ChronicleChunkCache first = open(file(), 1 << 20);
    first.put(key(1), TestChunks.bytes(key(1), 3000));
    first.closeWithoutMarkingClean();
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void recreatesEmptyWhenTheSidecarSaysUnclean() throws Exception {
    fillAndClose(3);
    Path sidecar = ChronicleChunkCache.sidecarPath(file());
    Files.writeString(sidecar, Files.readString(sidecar)
        .replace("\"cleanShutdown\" : true", "\"cleanShutdown\" : false"));
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void recreatesEmptyWhenTheSidecarIsDamagedOrMissing() throws Exception {
    fillAndClose(3);
    Files.writeString(ChronicleChunkCache.sidecarPath(file()), "{\"pageSize\": 10");
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
    Files.delete(ChronicleChunkCache.sidecarPath(file()));
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void recreatesEmptyWhenTheGeometryChanges() throws Exception {
    fillAndClose(3);
    try (ChronicleChunkCache cache = open(file(), 2 << 20)) {
      assertEmptyAndUsable(cache);
    }
    try (ChronicleChunkCache cache = ChronicleChunkCache.builder().file(file())
        .capacityBytes(2 << 20).pageSize(2048).build()) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void recreatesEmptyWhenTheMapFileIsTruncated() throws Exception {
    fillAndClose(3);
    try (RandomAccessFile raf = new RandomAccessFile(file().toFile(), "rw")) {
      raf.setLength(raf.length() / 3);
    }
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void recreatesEmptyWhenTheMapFileIsGarbage() throws Exception {
    fillAndClose(3);
    overwriteWithGarbage();
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertEmptyAndUsable(cache);
    }
  }

  @Test
  void neverTrustsGarbageEvenWhenTheSidecarVouchesForIt() throws Exception {
    fillAndClose(3);
    overwriteWithGarbage();
    // Forge the sidecar's file checks so only the map itself can notice.
    Path sidecarPath = ChronicleChunkCache.sidecarPath(file());
    CacheSidecar s = CacheSidecar.read(sidecarPath);
    s.withShutdown(true, Files.size(file()), CacheSidecar.headCrc(file())).write(sidecarPath);
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      for (int i = 0; i < 3; i++) {
        ByteBuffer b = cache.get(key(i));
        if (b != null) {
          assertChunk(b, key(i), sizeOf(i));
        }
      }
      assertThat(cache.put(key(7), TestChunks.bytes(key(7), 4000))).isTrue();
      assertChunk(cache.get(key(7)), key(7), 4000);
    }
  }

  private void overwriteWithGarbage() throws Exception {
    long length = Files.size(file());
    byte[] junk = new byte[(int) length];
    new Random(3).nextBytes(junk);
    Files.write(file(), junk);
  }

  private static byte[] pageKey(ChunkKey k, int page) {
    long hash = PageFormat.versionHash(PageFormat.versionBytes(k.datasetVersion()));
    return PageFormat.key(hash, k.chunk(), page);
  }

  /** Flips bits of one payload byte of a stored page, behind the cache's back. */
  private static void damagePayload(ChronicleChunkCache cache, ChunkKey k, int page, int at,
      int bits) {
    byte[] pageKey = pageKey(k, page);
    byte[] stored = cache.mapForTesting().get(pageKey);
    stored[PageFormat.HEADER_BYTES + at] ^= (byte) bits;
    cache.mapForTesting().put(pageKey, stored);
  }

  @Test
  void leasesAreViewsOfTheMapsPagesAndPinTheChunkAgainstEviction() throws Exception {
    int chunk = 4 * PAGE + 9;
    try (ChronicleChunkCache cache = open(file(), 3L * chunk)) {
      cache.put(key(0), TestChunks.bytes(key(0), chunk));
      ChunkBytes held = cache.lease(key(0));
      assertThat(held.pinned()).isTrue();
      List<ByteBuffer> pages = new ArrayList<>();
      held.slices(0, chunk, (src, off, len) -> pages.add(src));
      assertThat(pages).hasSize(5).allSatisfy(p -> assertThat(p.isDirect()).isTrue());
      // LRU would pick chunk 0 first; pinned, it is passed over every time.
      for (int i = 1; i <= 6; i++) {
        cache.put(key(i), TestChunks.bytes(key(i), chunk));
        assertThat(cache.contains(key(0))).isTrue();
      }
      assertThat(cache.evictions()).isEqualTo(4);
      assertLease(held, key(0), chunk);
      held.release();
      cache.put(key(7), TestChunks.bytes(key(7), chunk));
      assertThat(cache.contains(key(0))).isFalse();
      assertThat(cache.mapForTesting().containsKey(pageKey(key(0), 0))).isFalse();
    }
  }

  @Test
  void aLeaseOfMemoryWithoutAnAddressCopiesFromThenOnAndLetsItsPinGo() throws Exception {
    int chunk = 3 * PAGE + 5;
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      cache.put(key(0), TestChunks.bytes(key(0), chunk));
      cache.put(key(1), TestChunks.bytes(key(1), chunk));
      AtomicInteger asked = new AtomicInteger();
      cache.pageAddresses((bytes, at) -> {
        asked.incrementAndGet();
        throw new UnsupportedOperationException("not native memory");
      });
      ChunkBytes first = cache.lease(key(0));
      assertThat(first.pinned()).isFalse(); // a heap copy, as get returns
      assertLease(first, key(0), chunk);
      assertThat(cache.pinnedBytes()).isZero();
      ChunkBytes second = cache.lease(key(1));
      assertLease(second, key(1), chunk);
      // The switch sticks: the second lease copied without asking for an address again.
      assertThat(asked).hasValue(1);
      // Nothing was taken for damage: both chunks stay cached and evictable.
      assertThat(cache.corruptions()).isZero();
      assertThat(cache.contains(key(0))).isTrue();
      assertThat(cache.contains(key(1))).isTrue();
      cache.invalidate(key(0));
      assertThat(cache.mapForTesting().containsKey(pageKey(key(0), 0))).isFalse();
    }
  }

  @Test
  void aChunkRemovedWhileLeasedKeepsItsPagesAndSpaceUntilTheLastRelease() throws Exception {
    int chunk = 3 * PAGE + 1;
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      ChunkKey k = key(2);
      cache.put(k, TestChunks.bytes(k, chunk));
      ChunkBytes a = cache.lease(k);
      ChunkBytes b = cache.lease(k);
      assertThat(cache.pinnedBytes()).isEqualTo(chunk); // one chunk, however many leases
      cache.invalidate(k);
      assertThat(cache.contains(k)).isFalse();
      assertThat(cache.mapForTesting().containsKey(pageKey(k, 3))).isTrue();
      assertThat(cache.sizeBytes()).isEqualTo(chunk);
      // Re-admission would overwrite pages being read: refused until they are let go.
      assertThat(cache.put(k, TestChunks.bytes(k, chunk))).isFalse();
      a.release();
      assertThat(cache.mapForTesting().containsKey(pageKey(k, 3))).isTrue();
      assertLease(b, k, chunk);
      assertThat(cache.pinnedBytes()).isEqualTo(chunk);
      b.release();
      assertThat(cache.pinnedBytes()).isZero();
      assertThat(cache.mapForTesting().containsKey(pageKey(k, 0))).isFalse();
      assertThat(cache.sizeBytes()).isZero();
      assertThat(cache.put(k, TestChunks.bytes(k, chunk))).isTrue();
      ChunkBytes again = cache.lease(k);
      assertLease(again, k, chunk);
      again.release();
    }
  }

  @Test
  void aLeaseAfterAWarmReopenChecksCrcsOnce() throws Exception {
    fillAndClose(6);
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertThat(cache.openedWarm()).isTrue();
      ChunkKey k = key(5);
      damagePayload(cache, k, 1, 7, 0x01);

      assertThat(cache.lease(k)).isNull();
      assertThat(cache.contains(k)).isFalse();
      assertThat(cache.corruptions()).isEqualTo(1);
      assertThat(cache.mapForTesting().containsKey(pageKey(k, 0))).isFalse();
      for (int i = 0; i < 5; i++) {
        ChunkBytes b = cache.lease(key(i));
        assertLease(b, key(i), sizeOf(i));
        b.release();
      }
    }
  }

  @Test
  void closeWaitsForLeasesToBeReleased() throws Exception {
    ChronicleChunkCache cache = open(file(), 1 << 20);
    cache.put(key(1), TestChunks.bytes(key(1), 5 * PAGE));
    ChunkBytes held = cache.lease(key(1));
    Thread releaser = new Thread(() -> {
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      held.release();
    });
    releaser.start();
    cache.close(); // waits for the release (default: up to 10 s), then closes cleanly
    releaser.join();
    try (ChronicleChunkCache reopened = open(file(), 1 << 20)) {
      assertThat(reopened.openedWarm()).isTrue();
      ChunkBytes b = reopened.lease(key(1));
      assertLease(b, key(1), 5 * PAGE);
      b.release();
    }
  }

  @Test
  void closeLeavesTheMapMappedAndTheFileUncleanWhenALeaseOutlivesTheWait() throws Exception {
    ChronicleChunkCache cache = ChronicleChunkCache.builder().file(file()).capacityBytes(1 << 20)
        .pageSize(PAGE).closeWait(Duration.ofMillis(50)).build();
    cache.put(key(1), TestChunks.bytes(key(1), 5 * PAGE));
    ChunkBytes held = cache.lease(key(1));
    cache.close();
    assertThatThrownBy(() -> cache.lease(key(1))).isInstanceOf(IllegalStateException.class);
    // Still mapped: the straggler reads its bytes without crashing the JVM.
    assertLease(held, key(1), 5 * PAGE);
    held.release();
    try (ChronicleChunkCache reopened = open(file(), 1 << 20)) {
      assertEmptyAndUsable(reopened);
    }
  }

  @Test
  void dropsAChunkWhosePageFailsItsCrc() throws Exception {
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      ChunkKey k = key(3);
      int length = 5 * PAGE + 17;
      cache.put(k, TestChunks.bytes(k, length));
      cache.put(key(4), TestChunks.bytes(key(4), 100));
      damagePayload(cache, k, 2, 100, 0x40);

      assertThat(cache.get(k)).isNull();
      assertThat(cache.contains(k)).isFalse();
      assertThat(cache.corruptions()).isEqualTo(1);
      assertThat(cache.sizeBytes()).isEqualTo(100);
      assertThat(cache.mapForTesting().containsKey(pageKey(k, 0))).isFalse();
      assertChunk(cache.get(key(4)), key(4), 100);
    }
  }

  @Test
  void dropsAChunkWithAMissingOrForeignPage() throws Exception {
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      ChunkKey a = key(1);
      ChunkKey b = key(2);
      cache.put(a, TestChunks.bytes(a, 3 * PAGE));
      cache.put(b, TestChunks.bytes(b, 3 * PAGE));
      long hash = PageFormat.versionHash(PageFormat.versionBytes(a.datasetVersion()));
      // a's page 1 replaced by b's page 1 (valid CRC, wrong identity)
      byte[] foreign = cache.mapForTesting().get(PageFormat.key(hash, 2, 1));
      cache.mapForTesting().put(PageFormat.key(hash, 1, 1), foreign);
      cache.mapForTesting().remove(PageFormat.key(hash, 2, 2));
      assertThat(cache.get(a)).isNull();
      assertThat(cache.get(b)).isNull();
      assertThat(cache.corruptions()).isEqualTo(2);
      assertThat(cache.sizeBytes()).isZero();
    }
  }

  @Test
  void warmReopenDropsIncompleteChunks() throws Exception {
    fillAndClose(4);
    // Remove a page from chunk 3 behind the cache's back, then close cleanly.
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      long hash = PageFormat.versionHash(PageFormat.versionBytes(key(3).datasetVersion()));
      cache.mapForTesting().remove(PageFormat.key(hash, 3, 1));
    }
    try (ChronicleChunkCache cache = open(file(), 1 << 20)) {
      assertThat(cache.openedWarm()).isTrue();
      assertThat(cache.contains(key(3))).isFalse();
      for (int i = 0; i < 3; i++) {
        assertChunk(cache.get(key(i)), key(i), sizeOf(i));
      }
    }
  }

  @Test
  void aSecondCacheOnTheSameFileFailsWithAClearMessage() throws Exception {
    try (ChronicleChunkCache first = open(file(), 1 << 20)) {
      first.put(key(0), TestChunks.bytes(key(0), 10));
      assertThatThrownBy(() -> open(file(), 1 << 20))
          .isInstanceOf(CacheFileInUseException.class)
          .hasMessageContaining("cache file " + file().toAbsolutePath())
          .hasMessageContaining("is in use by another TrainFeed server (pid "
              + ProcessHandle.current().pid() + ")")
          .hasMessageContaining("give each server its own --cache-file");
      assertChunk(first.get(key(0)), key(0), 10);
    }
    try (ChronicleChunkCache again = open(file(), 1 << 20)) {
      assertThat(again.openedWarm()).isTrue();
    }
  }

  @Test
  void pageBudgetBoundsManyTinyChunks() throws Exception {
    try (ChronicleChunkCache cache = open(file(), 16L * PAGE)) {
      for (int i = 0; i < 200; i++) {
        assertThat(cache.put(key(i), TestChunks.bytes(key(i), 3))).isTrue();
        assertThat(cache.pagesInUse()).isLessThanOrEqualTo(cache.pageBudget());
      }
      assertThat(cache.evictions()).isEqualTo(200 - cache.pageBudget());
      assertChunk(cache.get(key(199)), key(199), 3);
    }
  }

  @Test
  void builderValidatesEagerly() {
    assertThatThrownBy(() -> ChronicleChunkCache.builder().pageSize(100))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pageSize");
    assertThatThrownBy(() -> ChronicleChunkCache.builder().capacityBytes(-1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("capacityBytes");
    assertThatThrownBy(() -> ChronicleChunkCache.builder().build())
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("--cache-file");
    assertThatThrownBy(() -> ChronicleChunkCache.builder().file(file()).capacityBytes(100)
        .build()).isInstanceOf(IllegalStateException.class).hasMessageContaining("raise");
    assertThat(ChronicleChunkCache.defaultFile(Path.of("/d")))
        .isEqualTo(Path.of("/d/cache/chunks.cmap"));
  }
}
