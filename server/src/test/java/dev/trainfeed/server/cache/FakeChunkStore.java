package dev.trainfeed.server.cache;

import dev.trainfeed.server.store.ChunkCorruptedException;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.DatasetNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * A ChunkStore of deterministic bytes that counts reads, can hold reads at a gate, and can fail
 * chosen chunks with {@link ChunkCorruptedException}.
 */
final class FakeChunkStore implements ChunkStore {
  private final Map<Integer, AtomicInteger> reads = new ConcurrentHashMap<>();
  private final Set<Integer> corrupt = ConcurrentHashMap.newKeySet();
  private volatile CountDownLatch gate;
  private final CountDownLatch entered = new CountDownLatch(1);
  private volatile LongConsumer onRead = n -> {};

  @Override
  public List<DatasetManifest> list() {
    return List.of();
  }

  @Override
  public List<DatasetManifest> versions(String name) {
    return List.of();
  }

  @Override
  public DatasetManifest resolve(String ref) throws IOException {
    throw new DatasetNotFoundException(ref);
  }

  @Override
  public ByteBuffer readChunk(DatasetManifest dataset, int chunk) throws IOException {
    reads.computeIfAbsent(chunk, c -> new AtomicInteger()).incrementAndGet();
    entered.countDown();
    CountDownLatch g = gate;
    if (g != null) {
      try {
        if (!g.await(30, TimeUnit.SECONDS)) {
          throw new IOException("test gate never opened");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException(e);
      }
    }
    int length = (int) dataset.chunks().get(chunk).decodedBytes();
    onRead.accept(length);
    if (corrupt.contains(chunk)) {
      throw new ChunkCorruptedException(dataset.ref() + " chunk " + chunk + " fails its CRC32C");
    }
    return TestChunks.bytes(dataset.version(), chunk, length);
  }

  int reads(int chunk) {
    AtomicInteger n = reads.get(chunk);
    return n == null ? 0 : n.get();
  }

  int totalReads() {
    return reads.values().stream().mapToInt(AtomicInteger::get).sum();
  }

  void corrupt(int chunk) {
    corrupt.add(chunk);
  }

  void heal(int chunk) {
    corrupt.remove(chunk);
  }

  /** Makes reads wait until the returned latch is counted down. */
  CountDownLatch closeGate() {
    CountDownLatch g = new CountDownLatch(1);
    gate = g;
    return g;
  }

  /** Counted down by the first read. */
  CountDownLatch entered() {
    return entered;
  }

  /** Runs inside every read, with the chunk's length (for advancing a fake clock). */
  void onRead(LongConsumer action) {
    onRead = action;
  }
}
