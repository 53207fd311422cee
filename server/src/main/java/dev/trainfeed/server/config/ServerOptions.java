package dev.trainfeed.server.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a server needs to start, with defaults already applied.
 *
 * @param dataDir data directory: datasets, resume key and (by default) the cache file
 * @param bind address to listen on (default {@code 0.0.0.0})
 * @param port gRPC port (default 7070; 0 picks a free one)
 * @param metricsPort Prometheus port (default 9464; 0 picks a free one; -1 turns it off)
 * @param cacheSizeBytes bound of the chunk cache (default 512 MiB)
 * @param cacheFile the Chronicle Map file (default {@code DATA_DIR/cache/chunks.cmap})
 * @param resumeKeyFile key file for resume tokens (default {@code DATA_DIR/resume.key})
 * @param maxBatchBytes largest batch payload (default 64 MiB)
 * @param maxStreams most concurrent streams (default 256)
 * @param loaderThreads chunk loader pool size (default 4)
 * @param streamThreads batch assembly pool size (default max(4, 2 × cores))
 * @param shutdownGrace how long running streams may finish after SIGTERM (default 30 s)
 * @param reflection whether gRPC server reflection is on (default true)
 * @param maxInboundMessageBytes largest request message (default 4 MiB)
 * @param prefetchBytes decoded chunk bytes each stream may have loading or loaded ahead of it
 *     (default 64 MiB; at least one chunk is always allowed)
 * @param healthPort a second, plaintext port that serves only {@code grpc.health.v1.Health}, for
 *     probes that cannot speak TLS such as the kubelet's (default -1 = off; 0 picks a free one)
 */
public record ServerOptions(
    Path dataDir,
    String bind,
    int port,
    int metricsPort,
    long cacheSizeBytes,
    Path cacheFile,
    Path resumeKeyFile,
    long maxBatchBytes,
    int maxStreams,
    int loaderThreads,
    int streamThreads,
    Duration shutdownGrace,
    boolean reflection,
    int maxInboundMessageBytes,
    long prefetchBytes,
    int healthPort) {

  /** Default {@link #prefetchBytes}: 64 MiB per stream. */
  public static final long DEFAULT_PREFETCH_BYTES = 64L << 20;

  /** The options with the default {@link #prefetchBytes} and no separate health port. */
  public ServerOptions(Path dataDir, String bind, int port, int metricsPort, long cacheSizeBytes,
      Path cacheFile, Path resumeKeyFile, long maxBatchBytes, int maxStreams, int loaderThreads,
      int streamThreads, Duration shutdownGrace, boolean reflection, int maxInboundMessageBytes) {
    this(dataDir, bind, port, metricsPort, cacheSizeBytes, cacheFile, resumeKeyFile,
        maxBatchBytes, maxStreams, loaderThreads, streamThreads, shutdownGrace, reflection,
        maxInboundMessageBytes, DEFAULT_PREFETCH_BYTES, -1);
  }

  /** Validates the options with messages that name the flag to change. */
  public ServerOptions {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("--port must be 0..65535, got " + port);
    }
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new IllegalArgumentException("--metrics-port must be -1 (off), 0..65535, got "
          + metricsPort);
    }
    if (cacheSizeBytes < (1 << 20)) {
      throw new IllegalArgumentException("--cache-size must be at least 1m, got " + cacheSizeBytes
          + " bytes");
    }
    if (maxBatchBytes < 1) {
      throw new IllegalArgumentException("--max-batch-bytes must be positive");
    }
    if (maxStreams < 1) {
      throw new IllegalArgumentException("--max-streams must be at least 1");
    }
    if (loaderThreads < 1 || loaderThreads > 256) {
      throw new IllegalArgumentException("--loader-threads must be 1..256, got " + loaderThreads);
    }
    if (streamThreads < 1 || streamThreads > 1024) {
      throw new IllegalArgumentException("--stream-threads must be 1..1024, got " + streamThreads);
    }
    if (shutdownGrace.isNegative()) {
      throw new IllegalArgumentException("--shutdown-grace must not be negative");
    }
    if (maxInboundMessageBytes < 1024) {
      throw new IllegalArgumentException("--max-inbound-message-bytes must be at least 1k");
    }
    if (prefetchBytes < 1) {
      throw new IllegalArgumentException("--prefetch-bytes must be positive, got "
          + prefetchBytes + "; the default is 64m");
    }
    if (healthPort < -1 || healthPort > 65535) {
      throw new IllegalArgumentException("--health-port must be -1 (off), 0..65535, got "
          + healthPort);
    }
  }
}
