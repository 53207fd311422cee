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
 * (int64) holds the id, field {@code rgb} (uint8 [3]) holds {@code id*3 … id*3+2} mod 256. Chunks
 * can be marked corrupt; reads are counted.
 */
final class SyntheticStore implements ChunkStore {
  static final String VERSION = "00112233445566778899";
  final DatasetManifest manifest;
  final AtomicInteger reads = new AtomicInteger();
  final Set<Integer> corrupt = ConcurrentHashMap.newKeySet();

  SyntheticStore(String name, int numSamples, int chunkSize) {
    List<FieldSpec> fields = List.of(new FieldSpec("id", DType.INT64),
        new FieldSpec("rgb", DType.UINT8, 3));
    List<ChunkInfo> chunks = new ArrayList<>();
    for (int c = 0, first = 0; first < numSamples; c++, first += chunkSize) {
      int n = Math.min(chunkSize, numSamples - first);
      chunks.add(new ChunkInfo(c, "c" + c, first, n, 11L * n, 11L * n, 0, "none"));
    }
    manifest = new DatasetManifest(1, name, VERSION, fields, numSamples, 11L * numSamples,
        11L * numSamples, chunks, "2026-01-01T00:00:00Z", null);
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
    return b.flip();
  }
}
