package dev.trainfeed.server.cache;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A chunk's decoded bytes as one stream holds them while it sends batches: either one heap buffer
 * (a chunk read from storage, or a cache that copies), or read-only views of the cache's own
 * off-heap pages, which stay pinned in the cache, neither evicted nor overwritten, until {@link
 * #release()}. Either way the transport copies each byte once, from here into its buffers.
 *
 * <p>Slices handed out by {@link #slices} must not be read after {@link #release()}: the pages
 * may be deleted and their memory reused. Not thread-safe, except {@link #release()}, which is
 * idempotent.
 */
public final class ChunkBytes {

  /**
   * Receives one contiguous piece of a range: {@code length} bytes of {@code source} from
   * absolute index {@code offset}.
   */
  @FunctionalInterface
  public interface SliceConsumer {
    /** Takes one piece; the buffer's position and limit are not to be relied on or changed. */
    void accept(ByteBuffer source, int offset, int length);
  }

  private static final Runnable NOTHING = () -> { };

  private final ByteBuffer[] segments;
  private final int segmentBytes;
  private final int length;
  private final Runnable onRelease;
  private final AtomicBoolean released = new AtomicBoolean();

  private ChunkBytes(ByteBuffer[] segments, int segmentBytes, int length, Runnable onRelease) {
    this.segments = segments;
    this.segmentBytes = segmentBytes;
    this.length = length;
    this.onRelease = onRelease;
  }

  /**
   * Bytes in one buffer that needs no release: the chunk is {@code [0, limit)} of {@code bytes}
   * by absolute index (its position is ignored).
   */
  public static ChunkBytes of(ByteBuffer bytes) {
    return new ChunkBytes(new ByteBuffer[] {bytes}, Math.max(1, bytes.limit()), bytes.limit(),
        NOTHING);
  }

  /**
   * Bytes spread over pages of {@code pageBytes} each (the last may be shorter; each page's
   * bytes are its {@code [0, capacity)}), held until {@code unpin} runs, which {@link #release()}
   * does exactly once.
   *
   * @throws IllegalArgumentException the pages do not hold exactly {@code length} bytes
   */
  public static ChunkBytes paged(ByteBuffer[] pages, int pageBytes, int length, Runnable unpin) {
    if (pageBytes < 1) {
      throw new IllegalArgumentException("pageBytes must be at least 1, got " + pageBytes);
    }
    long expected = pages.length == 0 ? 0 : (long) (pages.length - 1) * pageBytes
        + pages[pages.length - 1].capacity();
    if (expected != length) {
      throw new IllegalArgumentException(pages.length + " pages of " + pageBytes
          + " bytes cannot hold exactly " + length + " bytes");
    }
    return new ChunkBytes(pages, pageBytes, length, Objects.requireNonNull(unpin, "unpin"));
  }

  /** Decoded bytes in the chunk. */
  public int length() {
    return length;
  }

  /** Whether these are views of cache pages that {@link #release()} unpins. */
  public boolean pinned() {
    return onRelease != NOTHING;
  }

  /**
   * Hands {@code [offset, offset + length)} of the chunk to {@code to} as one slice per page it
   * touches (one slice for a heap chunk).
   *
   * @throws IndexOutOfBoundsException the range is not inside the chunk
   * @throws IllegalStateException after {@link #release()}
   */
  public void slices(int offset, int length, SliceConsumer to) {
    Objects.checkFromIndexSize(offset, length, this.length);
    if (released.get()) {
      throw new IllegalStateException("chunk bytes used after release");
    }
    while (length > 0) {
      int segment = offset / segmentBytes;
      int inSegment = offset - segment * segmentBytes;
      int n = Math.min(length, segmentBytes - inSegment);
      to.accept(segments[segment], inSegment, n);
      offset += n;
      length -= n;
    }
  }

  /** Lets the pages go (for views; nothing for a heap chunk). Idempotent, safe from any thread. */
  public void release() {
    if (released.compareAndSet(false, true)) {
      onRelease.run();
    }
  }
}
