package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HeapChunkCacheTest extends ChunkCacheContract {

  @Override
  protected ChunkCache create(long capacityBytes) {
    return HeapChunkCache.builder().capacityBytes(capacityBytes).build();
  }

  @Test
  void builderRejectsNonPositiveCapacity() {
    assertThatThrownBy(() -> HeapChunkCache.builder().capacityBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("capacityBytes");
  }
}
