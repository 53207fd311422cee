package dev.trainfeed.server.store;

import java.time.Clock;
import java.util.Objects;

/**
 * How {@link DatasetWriter} lays out and stores chunks. None of these options except
 * {@link #chunkSizeBytes()} (through the chunk layout) changes the dataset version.
 *
 * @param chunkSizeBytes target decoded chunk size; a chunk holds {@code max(1, floor(chunkSizeBytes
 *     / sampleBytes))} samples
 * @param compression how chunk files are stored
 * @param zstdLevel zstd level when {@code compression} is {@link Compression#ZSTD}
 * @param recordSources whether every sample carries a source path that the manifest records
 * @param clock source of the manifest's informational {@code createdAt}
 */
public record WriterOptions(int chunkSizeBytes, Compression compression, int zstdLevel,
    boolean recordSources, Clock clock) {

  /** Default {@link #chunkSizeBytes()}: 4 MiB. */
  public static final int DEFAULT_CHUNK_SIZE_BYTES = 4 << 20;
  /** Largest {@link #chunkSizeBytes()}: 1 GiB, so a decoded chunk fits one Java array. */
  public static final int MAX_CHUNK_SIZE_BYTES = 1 << 30;
  /** Default {@link #zstdLevel()}: 3, zstd's own default. */
  public static final int DEFAULT_ZSTD_LEVEL = 3;

  /** Validates eagerly; see the {@link Builder} setters for the bounds. */
  public WriterOptions {
    if (chunkSizeBytes < 1 || chunkSizeBytes > MAX_CHUNK_SIZE_BYTES) {
      throw new IllegalArgumentException("chunk size " + chunkSizeBytes + " bytes is out of range: "
          + "use 1 byte to 1 GiB (default 4 MiB)");
    }
    Objects.requireNonNull(compression, "compression");
    if (zstdLevel < 1 || zstdLevel > 22) {
      throw new IllegalArgumentException("zstd level " + zstdLevel + " is out of range: use 1 "
          + "(fastest) to 22 (smallest), default 3");
    }
    Objects.requireNonNull(clock, "clock");
  }

  /** 4 MiB chunks, no compression, no sources, system clock. */
  public static WriterOptions defaults() {
    return builder().build();
  }

  /** A builder starting from {@link #defaults()}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    return new Builder().chunkSizeBytes(chunkSizeBytes).compression(compression)
        .zstdLevel(zstdLevel).recordSources(recordSources).clock(clock);
  }

  /** Builds {@link WriterOptions}; each setter documents its default and bounds. */
  public static final class Builder {
    private int chunkSizeBytes = DEFAULT_CHUNK_SIZE_BYTES;
    private Compression compression = Compression.NONE;
    private int zstdLevel = DEFAULT_ZSTD_LEVEL;
    private boolean recordSources;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Target decoded chunk size in bytes, 1 to 1 GiB; default 4 MiB. */
    public Builder chunkSizeBytes(int bytes) {
      this.chunkSizeBytes = bytes;
      return this;
    }

    /** Storage of chunk files; default {@link Compression#NONE}. */
    public Builder compression(Compression compression) {
      this.compression = compression;
      return this;
    }

    /** zstd level 1 to 22, used with {@link Compression#ZSTD}; default 3. */
    public Builder zstdLevel(int level) {
      this.zstdLevel = level;
      return this;
    }

    /** Whether each appended sample carries a source path for the manifest; default false. */
    public Builder recordSources(boolean record) {
      this.recordSources = record;
      return this;
    }

    /** Clock for the manifest's {@code createdAt}; default the system UTC clock. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /** Validates and builds; throws {@link IllegalArgumentException} naming the bad value. */
    public WriterOptions build() {
      return new WriterOptions(chunkSizeBytes, compression, zstdLevel, recordSources, clock);
    }
  }
}
