package dev.trainfeed.server.cache;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * An on-heap {@link ChunkCache} with the same byte bound and eviction policy as {@link
 * ChronicleChunkCache}, for tests and for running without a cache file. Nothing is persisted.
 *
 * <p>Returned buffers are read-only, little-endian, position 0 and limit the chunk's length; they
 * share the cached array, which is never written after admission, so later evictions do not
 * affect them.
 */
public final class HeapChunkCache implements ChunkCache {

  /** Default {@link Builder#capacityBytes}: 256 MiB. */
  public static final long DEFAULT_CAPACITY_BYTES = 256L << 20;

  private final ResidencyLedger ledger;
  private final Map<ChunkKey, byte[]> data = new HashMap<>();
  private volatile boolean closed;

  private HeapChunkCache(long capacityBytes, EvictionPolicy policy) {
    this.ledger = new ResidencyLedger(capacityBytes, Long.MAX_VALUE, policy);
  }

  /** A builder with the defaults documented on its setters. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public ByteBuffer get(ChunkKey key) {
    Objects.requireNonNull(key, "key");
    checkOpen();
    byte[] bytes;
    synchronized (ledger) {
      if (ledger.acquireForRead(key) == null) {
        return null;
      }
      bytes = data.get(key);
    }
    return ByteBuffer.wrap(bytes).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public boolean put(ChunkKey key, ByteBuffer decoded) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(decoded, "decoded");
    checkOpen();
    if (ledger.isReady(key)) {
      return true;
    }
    ByteBuffer src = decoded.duplicate();
    byte[] copy = new byte[src.remaining()];
    src.get(copy);
    synchronized (ledger) {
      ResidencyLedger.Admission a = ledger.reserve(key, copy.length, 1);
      switch (a.outcome()) {
        case ALREADY_PRESENT:
          return true;
        case REFUSED:
          return false;
        default:
          break;
      }
      for (ResidencyLedger.Resident victim : a.evicted()) {
        data.remove(victim.key);
      }
      data.put(key, copy);
      ledger.markReady(key, a.generation());
      return true;
    }
  }

  @Override
  public boolean contains(ChunkKey key) {
    checkOpen();
    return ledger.isReady(key);
  }

  @Override
  public void invalidate(ChunkKey key) {
    checkOpen();
    synchronized (ledger) {
      if (ledger.remove(key) != null) {
        data.remove(key);
      }
    }
  }

  @Override
  public long sizeBytes() {
    return ledger.sizeBytes();
  }

  @Override
  public long capacityBytes() {
    return ledger.capacityBytes();
  }

  @Override
  public long evictions() {
    return ledger.evictions();
  }

  /** Number of chunks held now. */
  public int chunkCount() {
    return ledger.chunkCount();
  }

  /** Drops every chunk reference; later calls other than the size getters throw. Idempotent. */
  @Override
  public void close() {
    closed = true;
    synchronized (ledger) {
      data.clear();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("chunk cache is closed");
    }
  }

  /** Options for {@link HeapChunkCache}; each setter validates at once. */
  public static final class Builder {
    private long capacityBytes = DEFAULT_CAPACITY_BYTES;
    private Supplier<? extends EvictionPolicy> evictionPolicy = LruEvictionPolicy::new;

    private Builder() {}

    /** Bound on the decoded bytes held, in bytes (default 256 MiB); at least 1. */
    public Builder capacityBytes(long capacityBytes) {
      if (capacityBytes < 1) {
        throw new IllegalArgumentException("capacityBytes must be at least 1, got "
            + capacityBytes + "; pass the cache size in bytes");
      }
      this.capacityBytes = capacityBytes;
      return this;
    }

    /**
     * Makes the eviction policy, called once per {@link #build} (default {@code
     * LruEvictionPolicy::new}); each cache needs its own instance.
     */
    public Builder evictionPolicy(Supplier<? extends EvictionPolicy> factory) {
      this.evictionPolicy = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /** Builds the cache. */
    public HeapChunkCache build() {
      return new HeapChunkCache(capacityBytes, Objects.requireNonNull(evictionPolicy.get(),
          "evictionPolicy factory returned null"));
    }
  }
}
