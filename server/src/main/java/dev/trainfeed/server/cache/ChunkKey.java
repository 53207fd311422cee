package dev.trainfeed.server.cache;

/**
 * Identity of a decoded chunk in the cache.
 *
 * @param datasetVersion the dataset's content version (unique across names: it hashes the content)
 * @param chunk 0-based chunk index
 */
public record ChunkKey(String datasetVersion, int chunk) {
  @Override
  public String toString() {
    return datasetVersion + "/" + chunk;
  }
}
