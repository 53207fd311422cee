package dev.trainfeed.server.store;

/**
 * Receives ingest progress. {@link Ingest#run} calls it at most about a thousand times per ingest
 * and always once with {@code done == total} before committing; it runs on the ingest thread, so
 * it should be quick.
 */
@FunctionalInterface
public interface IngestProgress {
  /** Ignores all progress. */
  IngestProgress NONE = (done, total) -> {};

  /**
   * Reports that {@code done} of {@code total} samples have been written.
   *
   * @param done samples written so far, 0 to {@code total}
   * @param total samples the source holds
   */
  void onProgress(long done, long total);
}
