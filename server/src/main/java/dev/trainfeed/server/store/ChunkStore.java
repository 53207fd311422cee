package dev.trainfeed.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Where datasets live: committed manifests and their chunk files. Implementations are thread-safe;
 * every implementation passes {@code ChunkStoreContract}.
 */
public interface ChunkStore extends AutoCloseable {

  /** The current version of every dataset, sorted by name. */
  List<DatasetManifest> list() throws IOException;

  /** Every version of {@code name} still on disk, newest first. */
  List<DatasetManifest> versions(String name) throws IOException;

  /**
   * Resolves {@code NAME} (the current version) or {@code NAME@VERSION}.
   *
   * @throws IllegalArgumentException the reference is malformed
   * @throws DatasetNotFoundException no such dataset or version
   */
  DatasetManifest resolve(String ref) throws IOException;

  /**
   * Reads chunk {@code chunk} of {@code dataset}, checks its CRC32C and returns its decoded
   * columnar bytes (position 0, limit = decoded size, little-endian order).
   *
   * @throws ChunkCorruptedException the stored bytes fail their checksum or cannot be decoded
   */
  ByteBuffer readChunk(DatasetManifest dataset, int chunk) throws IOException;

  @Override
  default void close() throws IOException {}
}
