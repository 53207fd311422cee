package dev.trainfeed.server.stream;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.Tensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * An outgoing {@code trainfeed.v1.Batch} whose tensor data stay in their source buffers until
 * {@link #writeTo} puts them on the wire. {@link #writeTo} writes exactly the bytes that the
 * generated {@code Batch.writeTo} writes for {@link #toProto()} (fields in number order, proto3
 * defaults omitted, repeated scalars packed), so any protobuf reader parses it as a {@code Batch}.
 */
public final class BatchPayload {
  /**
   * Slices at least this long are written straight from their arrays into the transport's
   * buffers; shorter ones (labels, ids, headers) are gathered in {@link #SCRATCH_BYTES} first, so
   * the transport sees few tiny writes. gRPC (1.85) sizes each buffer of a known-length message by
   * what is left of the message (up to 1 MiB), so direct writes never fragment the buffers.
   */
  static final int DIRECT_SLICE_BYTES = 512;
  /** The per-thread scratch for headers and short slices: small enough to stay in L1/L2. */
  static final int SCRATCH_BYTES = 16 << 10;
  /** Per-thread scratch, so that sending a batch allocates nothing large. */
  private static final ThreadLocal<byte[]> SCRATCH =
      ThreadLocal.withInitial(() -> new byte[SCRATCH_BYTES]);

  private final long index;
  private final long epoch;
  private final long[] sampleIds;
  private final List<TensorPayload> tensors;
  private final byte[] resumeToken;
  private final boolean[] synthetic;
  private final boolean[] padding;
  private final int serializedSize;
  private final int[] tensorSizes;
  private final int sampleIdsSize;

  /**
   * Creates a batch.
   *
   * @param index batch number within the rank's epoch
   * @param epoch the epoch
   * @param sampleIds sample ids in batch order (not copied)
   * @param tensors the tensors in order
   * @param resumeToken the token (not copied)
   * @param synthetic per-sample flags, empty when no sample is synthetic (not copied)
   * @param padding per-sample flags, empty when no sample is a padding repeat (not copied)
   * @throws IllegalArgumentException if the encoding would exceed 2 GiB
   */
  public BatchPayload(long index, long epoch, long[] sampleIds, List<TensorPayload> tensors,
      byte[] resumeToken, boolean[] synthetic, boolean[] padding) {
    this.index = index;
    this.epoch = epoch;
    this.sampleIds = Objects.requireNonNull(sampleIds, "sampleIds");
    this.tensors = List.copyOf(tensors);
    this.resumeToken = Objects.requireNonNull(resumeToken, "resumeToken");
    this.synthetic = Objects.requireNonNull(synthetic, "synthetic");
    this.padding = Objects.requireNonNull(padding, "padding");
    long ids = 0;
    for (long id : sampleIds) {
      ids += CodedOutputStream.computeUInt64SizeNoTag(id);
    }
    this.sampleIdsSize = Math.toIntExact(ids);
    this.tensorSizes = new int[this.tensors.size()];
    long size = 0;
    if (index != 0) {
      size += CodedOutputStream.computeUInt64Size(1, index);
    }
    size += packedSize(2, sampleIdsSize);
    for (int i = 0; i < tensorSizes.length; i++) {
      tensorSizes[i] = tensorSize(this.tensors.get(i));
      size += 1 + CodedOutputStream.computeUInt32SizeNoTag(tensorSizes[i]) + tensorSizes[i];
    }
    if (resumeToken.length > 0) {
      size += 1 + CodedOutputStream.computeUInt32SizeNoTag(resumeToken.length)
          + resumeToken.length;
    }
    if (epoch != 0) {
      size += CodedOutputStream.computeUInt64Size(5, epoch);
    }
    size += packedSize(6, synthetic.length) + packedSize(7, padding.length);
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a batch of " + size + " bytes cannot be one protobuf "
          + "message (2 GiB at most); lower batch_size");
    }
    this.serializedSize = (int) size;
  }

  /** Bytes of the protobuf encoding. */
  public int serializedSize() {
    return serializedSize;
  }

  /** The tensors. */
  public List<TensorPayload> tensors() {
    return tensors;
  }

  /** The generated message with the same content; copies the tensor data. */
  public Batch toProto() {
    Batch.Builder b = Batch.newBuilder().setIndex(index).setEpoch(epoch)
        .setResumeToken(ByteString.copyFrom(resumeToken));
    for (long id : sampleIds) {
      b.addSampleIds(id);
    }
    for (TensorPayload t : tensors) {
      Tensor.Builder tb = Tensor.newBuilder().setName(t.name()).setDtypeValue(t.dtype())
          .setData(UnsafeByteOperations.unsafeWrap(t.copyData()));
      for (long d : t.shapeUnsafe()) {
        tb.addShape(d);
      }
      b.addTensors(tb);
    }
    for (boolean s : synthetic) {
      b.addSynthetic(s);
    }
    for (boolean p : padding) {
      b.addPadding(p);
    }
    return b.build();
  }

  /**
   * Writes the protobuf encoding to {@code out}: headers and short slices through one bounce
   * buffer, long slices backed by an array straight from their source, so each data byte is
   * copied once into the stream's buffers.
   *
   * @return {@link #serializedSize()}
   */
  public int writeTo(OutputStream out) throws IOException {
    Sink s = new Sink(out);
    if (index != 0) {
      s.tag(1, 0).varint(index);
    }
    if (sampleIds.length > 0) {
      s.tag(2, 2).varint(sampleIdsSize);
      for (long id : sampleIds) {
        s.varint(id);
      }
    }
    for (int i = 0; i < tensorSizes.length; i++) {
      TensorPayload t = tensors.get(i);
      s.tag(3, 2).varint(tensorSizes[i]);
      if (!t.name().isEmpty()) {
        byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
        s.tag(1, 2).varint(name.length).bytes(name);
      }
      if (t.dtype() != 0) {
        // Enums are int32 on the wire: a negative one is sign-extended to ten bytes.
        s.tag(2, 0).varint(t.dtype());
      }
      long[] shape = t.shapeUnsafe();
      if (shape.length > 0) {
        int len = 0;
        for (long d : shape) {
          len += CodedOutputStream.computeInt64SizeNoTag(d);
        }
        s.tag(3, 2).varint(len);
        for (long d : shape) {
          s.varint(d);
        }
      }
      if (t.dataBytes() > 0) {
        s.tag(4, 2).varint(t.dataBytes());
        for (int k = 0; k < t.slices(); k++) {
          s.slice(t.source(k), t.offset(k), t.length(k));
        }
      }
    }
    if (resumeToken.length > 0) {
      s.tag(4, 2).varint(resumeToken.length).bytes(resumeToken);
    }
    if (epoch != 0) {
      s.tag(5, 0).varint(epoch);
    }
    s.bools(6, synthetic).bools(7, padding);
    s.flush();
    if (s.written != serializedSize) {
      throw new IllegalStateException("wrote " + s.written + " bytes of a " + serializedSize
          + "-byte batch; a source buffer changed while it was being sent");
    }
    return serializedSize;
  }

  private static int packedSize(int field, int contentBytes) {
    return contentBytes == 0 ? 0 : CodedOutputStream.computeTagSize(field)
        + CodedOutputStream.computeUInt32SizeNoTag(contentBytes) + contentBytes;
  }

  private static int tensorSize(TensorPayload t) {
    long size = 0;
    if (!t.name().isEmpty()) {
      size += CodedOutputStream.computeStringSize(1, t.name());
    }
    if (t.dtype() != 0) {
      size += CodedOutputStream.computeEnumSize(2, t.dtype());
    }
    long shapeBytes = 0;
    for (long d : t.shapeUnsafe()) {
      shapeBytes += CodedOutputStream.computeInt64SizeNoTag(d);
    }
    size += packedSize(3, (int) shapeBytes);
    if (t.dataBytes() > 0) {
      size += 1 + CodedOutputStream.computeUInt64SizeNoTag(t.dataBytes()) + t.dataBytes();
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("tensor '" + t.name() + "' of " + size + " bytes "
          + "cannot be one protobuf message (2 GiB at most); lower batch_size");
    }
    return (int) size;
  }

  /**
   * Writes long slices straight from their arrays (one copy into the transport's buffers) and
   * gathers headers and short slices into a small scratch that is flushed before each direct write
   * and at the end, so the bytes leave in order.
   */
  private static final class Sink {
    private final OutputStream out;
    private final byte[] scratch;
    private int used;
    long written;

    Sink(OutputStream out) {
      this.out = out;
      this.scratch = SCRATCH.get();
    }

    Sink tag(int field, int wireType) throws IOException {
      return varint((long) field << 3 | wireType);
    }

    Sink varint(long v) throws IOException {
      if (SCRATCH_BYTES - used < 10) {
        flush();
      }
      while ((v & ~0x7FL) != 0) {
        scratch[used++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      scratch[used++] = (byte) v;
      return this;
    }

    Sink bytes(byte[] b) throws IOException {
      return slice(ByteBuffer.wrap(b), 0, b.length);
    }

    Sink bools(int field, boolean[] flags) throws IOException {
      if (flags.length > 0) {
        tag(field, 2).varint(flags.length);
        for (boolean f : flags) {
          if (used == SCRATCH_BYTES) {
            flush();
          }
          scratch[used++] = (byte) (f ? 1 : 0);
        }
      }
      return this;
    }

    Sink slice(ByteBuffer src, int offset, int length) throws IOException {
      if (src.hasArray() && length >= DIRECT_SLICE_BYTES) {
        flush();
        out.write(src.array(), src.arrayOffset() + offset, length);
        written += length;
        return this;
      }
      while (length > 0) {
        if (used == SCRATCH_BYTES) {
          flush();
        }
        int n = Math.min(length, SCRATCH_BYTES - used);
        src.get(offset, scratch, used, n);
        used += n;
        offset += n;
        length -= n;
      }
      return this;
    }

    void flush() throws IOException {
      if (used > 0) {
        out.write(scratch, 0, used);
        written += used;
        used = 0;
      }
    }
  }
}
