package dev.trainfeed.server.cache;

import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.FieldSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Deterministic chunk bytes and manifests for cache tests. */
final class TestChunks {
  private TestChunks() {}

  /** {@code length} bytes that depend on the version, chunk and position. */
  static ByteBuffer bytes(String version, int chunk, int length) {
    byte[] b = new byte[length];
    long seed = version.hashCode() * 0x9e3779b97f4a7c15L + chunk;
    for (int i = 0; i < length; i++) {
      long x = seed + i * 0xbf58476d1ce4e5b9L;
      x ^= x >>> 29;
      b[i] = (byte) x;
    }
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
  }

  static ByteBuffer bytes(ChunkKey key, int length) {
    return bytes(key.datasetVersion(), key.chunk(), length);
  }

  /** A UINT8 dataset of {@code chunks} chunks of {@code chunkBytes} one-byte samples. */
  static DatasetManifest manifest(String name, String version, int chunks, int chunkBytes) {
    List<ChunkInfo> infos = new ArrayList<>();
    for (int i = 0; i < chunks; i++) {
      infos.add(new ChunkInfo(i, "chunk-" + i + ".bin", (long) i * chunkBytes, chunkBytes,
          chunkBytes, chunkBytes, 0, "none"));
    }
    return new DatasetManifest(DatasetManifest.FORMAT_VERSION, name, version,
        List.of(new FieldSpec("x", DType.UINT8)), (long) chunks * chunkBytes,
        (long) chunks * chunkBytes, (long) chunks * chunkBytes, infos, "2026-01-01T00:00:00Z",
        null);
  }

  /** Copies the remaining bytes of {@code b} without moving its position. */
  /** A copy of all the bytes of {@code b}, in order (not released). */
  static byte[] toArray(ChunkBytes b) {
    byte[] out = new byte[b.length()];
    int[] at = {0};
    b.slices(0, b.length(), (src, off, len) -> {
      src.get(off, out, at[0], len);
      at[0] += len;
    });
    return out;
  }

  static byte[] toArray(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
