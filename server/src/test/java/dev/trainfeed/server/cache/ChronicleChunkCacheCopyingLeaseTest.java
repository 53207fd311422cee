package dev.trainfeed.server.cache;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cache contract for the Chronicle cache's fallback read path: leases that copy each chunk
 * onto the heap, as in a JVM started without {@code --add-opens java.base/java.nio}.
 */
class ChronicleChunkCacheCopyingLeaseTest extends ChunkCacheContract {

  @TempDir Path dir;
  private int created;

  @Override
  protected ChunkCache create(long capacityBytes) throws Exception {
    ChronicleChunkCache cache = ChronicleChunkCache.builder()
        .file(dir.resolve("c" + (created++)).resolve("chunks.cmap"))
        .capacityBytes(capacityBytes).pageSize(PAGE).build();
    cache.copyOnLease();
    return cache;
  }
}
