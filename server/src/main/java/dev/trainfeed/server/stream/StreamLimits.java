package dev.trainfeed.server.stream;

/**
 * Limits the stream service enforces; over one, a request gets {@code RESOURCE_EXHAUSTED}.
 *
 * @param maxBatchBytes largest payload of one batch, in bytes (default 64 MiB)
 * @param maxStreams most concurrent batch streams (default 256)
 * @param onReadyThresholdBytes bytes the transport may buffer before a stream waits (default
 *     8 MiB, so that one multi-MiB batch is in flight while the next is built)
 */
public record StreamLimits(long maxBatchBytes, int maxStreams, int onReadyThresholdBytes) {
  /** The defaults above. */
  public static final StreamLimits DEFAULTS = new StreamLimits(64L << 20, 256, 8 << 20);

  /** Validates the limits. */
  public StreamLimits {
    if (maxBatchBytes < 1) {
      throw new IllegalArgumentException("max batch bytes must be positive, got " + maxBatchBytes);
    }
    if (maxStreams < 1) {
      throw new IllegalArgumentException("max streams must be at least 1, got " + maxStreams);
    }
    if (onReadyThresholdBytes < 32 << 10) {
      throw new IllegalArgumentException("on-ready threshold must be at least 32 KiB");
    }
  }
}
