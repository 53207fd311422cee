package dev.trainfeed.server.stream;

import dev.trainfeed.server.store.ChunkCorruptedException;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.DatasetNames;
import dev.trainfeed.server.store.DatasetNotFoundException;
import dev.trainfeed.server.store.FieldSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory store of one dataset whose bytes are a function of the sample id: field {@code id}
 * (int64) holds the id, field {@code rgb} (uint8 [3]) holds {@code id*3 … id*3+2} mod 256, and
 * optionally field {@code img} (uint8 [4, 5, 3], HWC) holds element {@code k} = (id·7 + k) mod 256.
 * Chunks can be marked corrupt; reads are counted.
 */
final class SyntheticStore implements ChunkStore {
  static final String VERSION = "00112233445566778899";
  final DatasetManifest manifest;
  final AtomicInteger reads = new AtomicInteger();
  final Set<Integer> corrupt = ConcurrentHashMap.newKeySet();

  /** Elements of one {@code img} sample. */
  static final int IMG_ELEMENTS = 4 * 5 * 3;

  SyntheticStore(String name, int numSamples, int chunkSize) {
    this(name, numSamples, chunkSize, false);
  }

  SyntheticStore(String name, int numSamples, int chunkSize, boolean withImage) {
    List<FieldSpec> fields = new ArrayList<>(List.of(new FieldSpec("id", DType.INT64),
        new FieldSpec("rgb", DType.UINT8, 3)));
    if (withImage) {
      fields.add(new FieldSpec("img", DType.UINT8, 4, 5, 3));
    }
    long perSample = 11L + (withImage ? IMG_ELEMENTS : 0);
    List<ChunkInfo> chunks = new ArrayList<>();
    for (int c = 0, first = 0; first < numSamples; c++, first += chunkSize) {
      int n = Math.min(chunkSize, numSamples - first);
      chunks.add(new ChunkInfo(c, "c" + c, first, n, perSample * n, perSample * n, 0, "none"));
    }
    manifest = new DatasetManifest(1, name, VERSION, fields, numSamples, perSample * numSamples,
        perSample * numSamples, chunks, "2026-01-01T00:00:00Z", null);
  }

  @Override
  public List<DatasetManifest> list() {
    return List.of(manifest);
  }

  @Override
  public List<DatasetManifest> versions(String name) {
    return List.of(manifest);
  }

  @Override
  public DatasetManifest resolve(String ref) throws DatasetNotFoundException {
    String[] parts = DatasetNames.parseRef(ref);
    if (!parts[0].equals(manifest.name()) || (parts[1] != null && !parts[1].equals(VERSION))) {
      throw new DatasetNotFoundException("dataset '" + ref + "' not found");
    }
    return manifest;
  }

  @Override
  public ByteBuffer readChunk(DatasetManifest dataset, int chunk) throws ChunkCorruptedException {
    reads.incrementAndGet();
    if (corrupt.contains(chunk)) {
      throw new ChunkCorruptedException("dataset " + dataset.ref() + " chunk " + chunk
          + " failed its CRC32C check");
    }
    ChunkInfo c = dataset.chunks().get(chunk);
    ByteBuffer b = ByteBuffer.allocate((int) c.decodedBytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < c.numSamples(); i++) {
      b.putLong(c.firstSample() + i);
    }
    for (int i = 0; i < c.numSamples(); i++) {
      long id = c.firstSample() + i;
      for (int k = 0; k < 3; k++) {
        b.put((byte) (id * 3 + k));
      }
    }
    if (dataset.fields().size() > 2) {
      for (int i = 0; i < c.numSamples(); i++) {
        long id = c.firstSample() + i;
        for (int k = 0; k < IMG_ELEMENTS; k++) {
          b.put((byte) (id * 7 + k));
        }
      }
    }
    return b.flip();
  }

  /** A chunk source that reads straight from this store (see {@link DirectChunkSource}). */
  ChunkSource directSource() {
    return DirectChunkSource.of(this);
  }
}
