package dev.trainfeed.server.store;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.List;

/**
 * The immutable description of one dataset version: schema, chunk list and sizes. Written as
 * {@code manifest.json} beside the chunk files.
 *
 * @param formatVersion manifest format, currently 1
 * @param name dataset name, matching {@link DatasetNames#PATTERN}
 * @param version content hash of schema, chunk layout and sample bytes (hex)
 * @param fields the fields, in columnar order inside each chunk
 * @param numSamples number of samples, {@code N}
 * @param sizeBytes decoded size of all samples
 * @param storedBytes size of all chunk files on disk
 * @param chunks the chunks in sample order; together they cover {@code 0 … N-1}
 * @param createdAt ingest time (ISO-8601), informational only, not part of the version
 * @param sources per-sample source path in stored order (image-folder ingest), or null
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DatasetManifest(
    @JsonProperty("formatVersion") int formatVersion,
    @JsonProperty("name") String name,
    @JsonProperty("version") String version,
    @JsonProperty("fields") List<FieldSpec> fields,
    @JsonProperty("numSamples") long numSamples,
    @JsonProperty("sizeBytes") long sizeBytes,
    @JsonProperty("storedBytes") long storedBytes,
    @JsonProperty("chunks") List<ChunkInfo> chunks,
    @JsonProperty("createdAt") String createdAt,
    @JsonProperty("sources") List<String> sources) {

  /** Current manifest format. */
  public static final int FORMAT_VERSION = 1;

  /** {@code name@version}, the reference that selects exactly this version. */
  @JsonIgnore
  public String ref() {
    return name + "@" + version;
  }

  /** Index of the field called {@code fieldName}, or -1. */
  public int fieldIndex(String fieldName) {
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).name().equals(fieldName)) {
        return i;
      }
    }
    return -1;
  }

  /** Bytes of one sample over all fields. */
  @JsonIgnore
  public long sampleBytes() {
    long total = 0;
    for (FieldSpec f : fields) {
      total += f.sampleBytes();
    }
    return total;
  }

  /** Byte offset of field {@code fieldIdx}'s array inside the decoded bytes of {@code chunk}. */
  public long fieldOffset(ChunkInfo chunk, int fieldIdx) {
    long offset = 0;
    for (int i = 0; i < fieldIdx; i++) {
      offset += fields.get(i).sampleBytes() * chunk.numSamples();
    }
    return offset;
  }

  /** The chunk holding sample {@code sampleId} (binary search over chunk starts). */
  public int chunkOf(long sampleId) {
    if (sampleId < 0 || sampleId >= numSamples) {
      throw new IndexOutOfBoundsException("sample " + sampleId + " of " + numSamples);
    }
    int lo = 0;
    int hi = chunks.size() - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (chunks.get(mid).firstSample() <= sampleId) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** Number of samples in each chunk, in order (the layout {@code order} works on). */
  @JsonIgnore
  public int[] chunkSampleCounts() {
    return chunks.stream().mapToInt(ChunkInfo::numSamples).toArray();
  }

  @Override
  public String toString() {
    return ref() + " " + numSamples + " samples, " + chunks.size() + " chunks, fields "
        + Arrays.toString(fields.toArray());
  }
}
