package dev.trainfeed.server.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ChunkBytesTest {

  private record Slice(ByteBuffer source, int offset, int length) {}

  private static List<Slice> slices(ChunkBytes b, int offset, int length) {
    List<Slice> out = new ArrayList<>();
    b.slices(offset, length, (src, off, len) -> out.add(new Slice(src, off, len)));
    return out;
  }

  private static ByteBuffer[] pages(int length, int pageBytes) {
    int n = (length + pageBytes - 1) / pageBytes;
    ByteBuffer[] pages = new ByteBuffer[n];
    for (int i = 0; i < n; i++) {
      pages[i] = ByteBuffer.allocate(Math.min(pageBytes, length - i * pageBytes));
    }
    return pages;
  }

  @Test
  void aHeapChunkIsOneSliceOfItsBufferAndNeedsNoRelease() {
    ByteBuffer heap = ByteBuffer.allocate(1000);
    heap.position(300); // ignored: indexes are absolute
    ChunkBytes b = ChunkBytes.of(heap);
    assertThat(b.length()).isEqualTo(1000);
    assertThat(b.pinned()).isFalse();
    assertThat(slices(b, 10, 900)).containsExactly(new Slice(heap, 10, 900));
    b.release();
    b.release();
  }

  @Test
  void rangesAreSplitAtPageBoundaries() {
    ByteBuffer[] pages = pages(250, 100);
    ChunkBytes b = ChunkBytes.paged(pages, 100, 250, () -> { });
    assertThat(b.pinned()).isTrue();
    assertThat(slices(b, 0, 100)).containsExactly(new Slice(pages[0], 0, 100));
    assertThat(slices(b, 95, 10)).containsExactly(new Slice(pages[0], 95, 5),
        new Slice(pages[1], 0, 5));
    assertThat(slices(b, 50, 200)).containsExactly(new Slice(pages[0], 50, 50),
        new Slice(pages[1], 0, 100), new Slice(pages[2], 0, 50));
    assertThat(slices(b, 249, 1)).containsExactly(new Slice(pages[2], 49, 1));
    assertThat(slices(b, 250, 0)).isEmpty();
    assertThatThrownBy(() -> slices(b, 200, 51)).isInstanceOf(IndexOutOfBoundsException.class);
    assertThatThrownBy(() -> slices(b, -1, 1)).isInstanceOf(IndexOutOfBoundsException.class);
  }

  @Test
  void releaseRunsOnceAndEndsUse() {
    AtomicInteger released = new AtomicInteger();
    ChunkBytes b = ChunkBytes.paged(pages(10, 4), 4, 10, released::incrementAndGet);
    b.release();
    b.release();
    assertThat(released).hasValue(1);
    assertThatThrownBy(() -> slices(b, 0, 1)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("after release");
  }

  @Test
  void pagesMustHoldExactlyTheLength() {
    assertThatThrownBy(() -> ChunkBytes.paged(pages(250, 100), 100, 251, () -> { }))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exactly 251");
    assertThatThrownBy(() -> ChunkBytes.paged(pages(250, 100), 0, 250, () -> { }))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
