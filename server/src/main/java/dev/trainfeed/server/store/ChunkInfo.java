package dev.trainfeed.server.store;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One chunk of a dataset as the manifest records it: a run of consecutive samples stored columnar
 * (for each field in manifest order, one contiguous little-endian array of {@code numSamples}
 * samples).
 *
 * @param index 0-based chunk number
 * @param file chunk file name, relative to the dataset version directory
 * @param firstSample id of the chunk's first sample (position in stored order)
 * @param numSamples samples in the chunk, at least 1
 * @param decodedBytes size of the decoded columnar bytes
 * @param storedBytes size of the file on disk
 * @param crc32c CRC32C of the file's bytes as stored, checked on every load
 * @param compression {@code "none"} or {@code "zstd"}
 */
public record ChunkInfo(
    @JsonProperty("index") int index,
    @JsonProperty("file") String file,
    @JsonProperty("firstSample") long firstSample,
    @JsonProperty("numSamples") int numSamples,
    @JsonProperty("decodedBytes") long decodedBytes,
    @JsonProperty("storedBytes") long storedBytes,
    @JsonProperty("crc32c") long crc32c,
    @JsonProperty("compression") String compression) {

  /** Id one past the chunk's last sample. */
  public long endSample() {
    return firstSample + numSamples;
  }
}
