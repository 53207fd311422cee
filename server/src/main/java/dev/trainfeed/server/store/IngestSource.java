package dev.trainfeed.server.store;

import java.io.IOException;
import java.util.List;

/**
 * A source of samples that {@link Ingest#run} turns into a dataset version. Implementations read
 * their input in a streaming fashion and in a deterministic order, so the same input gives the same
 * version.
 */
public interface IngestSource {

  /**
   * What a source holds, found without writing anything.
   *
   * @param fields the dataset schema, in columnar order
   * @param numSamples number of samples the source will write, at least 1
   * @param hasSources whether each sample comes with a source path for the manifest
   */
  record Schema(List<FieldSpec> fields, long numSamples, boolean hasSources) {
    /** Copies {@code fields}. */
    public Schema {
      fields = List.copyOf(fields);
    }
  }

  /**
   * Reads headers and validates the input; repeated calls return the same schema.
   *
   * @throws MalformedSourceException the input is malformed; the message names file and problem
   */
  Schema inspect() throws IOException;

  /**
   * Appends every sample to {@code writer} (created with {@link #inspect()}'s schema and, when
   * {@link Schema#hasSources()}, with sources recorded), calling {@code progress} as it goes.
   *
   * @throws MalformedSourceException the input is malformed; the message names file and problem
   */
  void writeTo(DatasetWriter writer, IngestProgress progress) throws IOException;
}
