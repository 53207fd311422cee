package dev.trainfeed.server.stream;

import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.store.ChunkStore;
import java.io.IOException;

/** Test chunk sources that read straight from a store, with no cache or prefetch. */
final class DirectChunkSource {
  private DirectChunkSource() {}

  /**
   * Reads from {@code store}, handing out read-only buffers like the cache does (so marshalling
   * copies through its scratch buffer, as in the server).
   */
  static ChunkSource of(ChunkStore store) {
    return (dataset, sequence) -> new ChunkSource.Reader() {
      @Override
      public ChunkBytes chunk(int chunk) throws IOException {
        return ChunkBytes.of(store.readChunk(dataset, chunk).asReadOnlyBuffer());
      }

      @Override
      public void close() {}
    };
  }
}
