package dev.trainfeed.server.store;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything {@link Ingest#run} needs: where, under which name, from which source, how to store.
 *
 * @param dataDir the data directory ({@code DATA_DIR}); created if missing
 * @param name dataset name, matching {@link DatasetNames#PATTERN}
 * @param source the samples: {@link NpyIngest}, {@link CsvIngest}, {@link ImageFolderIngest},
 *     {@link IdxIngest} or another {@link IngestSource}
 * @param writerOptions chunk size and compression; {@code recordSources} is set from the source
 * @param progress receives progress; default {@link IngestProgress#NONE}
 */
public record IngestOptions(Path dataDir, String name, IngestSource source,
    WriterOptions writerOptions, IngestProgress progress) {

  /** Validates eagerly; throws naming the missing or bad value. */
  public IngestOptions {
    Objects.requireNonNull(dataDir, "dataDir: set the data directory");
    DatasetNames.checkName(name);
    Objects.requireNonNull(source, "source: set one of npy, csv, images or idx");
    Objects.requireNonNull(writerOptions, "writerOptions");
    Objects.requireNonNull(progress, "progress");
  }

  /** A builder with default writer options and no progress reporting. */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds {@link IngestOptions}; data directory, name and source are required. */
  public static final class Builder {
    private Path dataDir;
    private String name;
    private IngestSource source;
    private WriterOptions writerOptions = WriterOptions.defaults();
    private IngestProgress progress = IngestProgress.NONE;

    private Builder() {}

    /** The data directory; required. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** The dataset name; required, {@code [A-Za-z0-9][A-Za-z0-9._-]{0,127}}. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** The source of samples; required. */
    public Builder source(IngestSource source) {
      this.source = source;
      return this;
    }

    /** Chunk size and compression; default {@link WriterOptions#defaults()}. */
    public Builder writerOptions(WriterOptions writerOptions) {
      this.writerOptions = writerOptions;
      return this;
    }

    /** Progress callback; default none. */
    public Builder progress(IngestProgress progress) {
      this.progress = progress;
      return this;
    }

    /** Validates and builds. */
    public IngestOptions build() {
      return new IngestOptions(dataDir, name, source, writerOptions, progress);
    }
  }
}
