package dev.trainfeed.client;

import java.util.List;
import java.util.Objects;

/**
 * Description of one dataset version, as the server reports it.
 *
 * @param name dataset name
 * @param version content hash of schema, chunk layout and sample bytes
 * @param numSamples number of samples N; sample ids are 0 … N-1
 * @param fields the fields, in the server's order
 * @param numChunks number of chunks
 * @param sizeBytes decoded size of all samples, in bytes
 * @param storedBytes size of the chunk files on disk after compression, in bytes
 */
public record DatasetInfo(String name, String version, long numSamples, List<FieldInfo> fields,
    long numChunks, long sizeBytes, long storedBytes) {

  /** Validates and copies the components; {@code fields} becomes unmodifiable. */
  public DatasetInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(version, "version");
    fields = List.copyOf(fields);
  }

  /**
   * Returns the field with this name.
   *
   * @throws IllegalArgumentException if the dataset has no such field
   */
  public FieldInfo field(String fieldName) {
    return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("dataset '" + name + "' has no field '"
            + fieldName + "'; it has " + fields));
  }
}
