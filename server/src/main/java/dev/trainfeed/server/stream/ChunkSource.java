package dev.trainfeed.server.stream;

import dev.trainfeed.server.store.DatasetManifest;
import java.io.IOException;
import java.nio.ByteBuffer;

/** Where batch assembly gets decoded chunks: the cache-backed loader in the server. */
public interface ChunkSource {

  /**
   * The decoded bytes of {@code chunk}, blocking until loaded; time spent waiting for storage is
   * counted as data stall.
   */
  ByteBuffer chunk(DatasetManifest dataset, int chunk) throws IOException;

  /** Starts loading {@code chunk} in the background if it is not cached or loading already. */
  void prefetch(DatasetManifest dataset, int chunk);
}
