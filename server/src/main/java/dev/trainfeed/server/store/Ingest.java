package dev.trainfeed.server.store;

import java.io.IOException;

/**
 * The ingest entry point the command line calls: reads a source, writes and commits one dataset
 * version. On any failure nothing is published, the temporary directory is removed and the
 * previous CURRENT is untouched.
 */
public final class Ingest {
  /** Progress is reported about this many times per ingest, plus once at the end. */
  private static final long PROGRESS_STEPS = 1000;

  private Ingest() {}

  /**
   * Runs one ingest.
   *
   * @return the manifest of the committed version (an existing one if the content was already
   *     stored; then only CURRENT changed)
   * @throws MalformedSourceException the source is malformed; the message names file and problem
   */
  public static DatasetManifest run(IngestOptions options) throws IOException {
    IngestSource source = options.source();
    IngestSource.Schema schema = source.inspect();
    WriterOptions writerOptions = options.writerOptions().toBuilder()
        .recordSources(schema.hasSources()).build();
    long total = schema.numSamples();
    long step = Math.max(1, total / PROGRESS_STEPS);
    IngestProgress user = options.progress();
    long[] next = {0};
    IngestProgress throttled = (done, all) -> {
      if (done >= next[0] || done == all) {
        next[0] = done + step;
        user.onProgress(done, all);
      }
    };
    try (DatasetWriter writer = DatasetWriter.create(options.dataDir(), options.name(),
        schema.fields(), writerOptions)) {
      source.writeTo(writer, throttled);
      if (writer.numSamples() != total) {
        throw new MalformedSourceException("the source changed while it was read: expected "
            + total + " samples, got " + writer.numSamples());
      }
      return writer.commit();
    }
  }
}
