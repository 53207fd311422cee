package dev.trainfeed.server.stream;

import dev.trainfeed.server.cache.ChunkBytes;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * One {@code Tensor} of an outgoing batch whose {@code data} is a gather list of slices of source
 * buffers (the decoded chunks), not a copy. Consecutive slices of one buffer that touch are merged,
 * so an unshuffled batch from one chunk is a single slice.
 *
 * <p>The slices are read when the batch is marshalled, which gRPC does inside {@code onNext}; the
 * source buffers must not change until then. Not thread-safe while being built.
 */
public final class TensorPayload implements ChunkBytes.SliceConsumer {
  private final String name;
  private final int dtype;
  private final long[] shape;
  private ByteBuffer[] sources = new ByteBuffer[4];
  private int[] offsets = new int[4];
  private int[] lengths = new int[4];
  private int slices;
  private long dataBytes;

  /**
   * Starts a tensor with no data.
   *
   * @param name field name (may be empty)
   * @param dtype wire number of the {@code DType}
   * @param shape dimensions, batch dimension first
   */
  public TensorPayload(String name, int dtype, long[] shape) {
    this.name = Objects.requireNonNull(name, "name");
    this.dtype = dtype;
    this.shape = shape.clone();
  }

  /**
   * Appends {@code length} bytes of {@code source} from absolute index {@code offset} (the
   * buffer's position and limit are ignored and never changed).
   */
  public TensorPayload add(ByteBuffer source, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, source.capacity());
    if (length == 0) {
      return this;
    }
    int last = slices - 1;
    if (last >= 0 && sources[last] == source && offsets[last] + lengths[last] == offset) {
      lengths[last] += length;
    } else {
      if (slices == sources.length) {
        sources = Arrays.copyOf(sources, slices * 2);
        offsets = Arrays.copyOf(offsets, slices * 2);
        lengths = Arrays.copyOf(lengths, slices * 2);
      }
      sources[slices] = source;
      offsets[slices] = offset;
      lengths[slices] = length;
      slices++;
    }
    dataBytes += length;
    return this;
  }

  /** Same as {@link #add}: appends a slice of a chunk. */
  @Override
  public void accept(ByteBuffer source, int offset, int length) {
    add(source, offset, length);
  }

  /** Field name. */
  public String name() {
    return name;
  }

  /** Wire number of the dtype. */
  public int dtype() {
    return dtype;
  }

  /** A copy of the dimensions. */
  public long[] shape() {
    return shape.clone();
  }

  long[] shapeUnsafe() {
    return shape;
  }

  /** Bytes of {@code data}: the sum of the slices. */
  public long dataBytes() {
    return dataBytes;
  }

  /** Number of slices after merging. */
  public int slices() {
    return slices;
  }

  ByteBuffer source(int i) {
    return sources[i];
  }

  int offset(int i) {
    return offsets[i];
  }

  int length(int i) {
    return lengths[i];
  }

  /** A fresh array with a copy of all the data bytes, in order. */
  public byte[] copyData() {
    byte[] out = new byte[Math.toIntExact(dataBytes)];
    int at = 0;
    for (int i = 0; i < slices; i++) {
      sources[i].get(offsets[i], out, at, lengths[i]);
      at += lengths[i];
    }
    return out;
  }
}
