package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.server.store.DType;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The marshalled bytes of a {@link BatchPayload} are exactly the generated encoding of the same
 * {@code Batch}, for gathers over many chunk buffers of every kind, every dtype, padding and empty
 * optional fields.
 */
class BatchMarshallerTest {
  private final SplittableRandom random = new SplittableRandom(11);

  /** Chunk buffers of the three kinds a chunk source may hand out. */
  private List<ByteBuffer> chunks(int count, int bytes) {
    List<ByteBuffer> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] b = new byte[bytes];
      random.nextBytes(b);
      ByteBuffer heap = ByteBuffer.wrap(b);
      out.add(switch (i % 3) {
        case 0 -> heap;
        case 1 -> heap.asReadOnlyBuffer();
        default -> ByteBuffer.allocateDirect(bytes).put(heap).flip();
      });
    }
    return out;
  }

  private BatchPayload randomBatch(int samples, boolean padded, boolean ids, int fields,
      int sampleScale, List<ByteBuffer> chunks) {
    DType[] dtypes = DType.values();
    List<TensorPayload> tensors = new ArrayList<>();
    for (int f = 0; f < fields; f++) {
      DType dtype = dtypes[f % dtypes.length];
      int perSample = dtype.byteSize() * sampleScale;
      TensorPayload t = new TensorPayload(f == 1 ? "" : "field-" + f + "-é", dtype.wireNumber(),
          new long[] {samples, sampleScale});
      for (int i = 0; i < samples; i++) {
        ByteBuffer c = chunks.get(random.nextInt(chunks.size()));
        // Runs of neighbours in one chunk exercise slice merging.
        int at = random.nextInt(c.capacity() / perSample) * perSample;
        t.add(c, at, perSample);
      }
      tensors.add(t);
    }
    long[] sampleIds = new long[ids ? samples : 0];
    for (int i = 0; i < sampleIds.length; i++) {
      sampleIds[i] = i % 2 == 0 ? random.nextLong() : random.nextInt(1000);
    }
    boolean[] padding = new boolean[padded ? samples : 0];
    for (int i = 0; i < padding.length; i++) {
      padding[i] = i >= samples / 2;
    }
    byte[] token = new byte[random.nextInt(2) == 0 ? 0 : 57];
    random.nextBytes(token);
    return new BatchPayload(random.nextInt(3) == 0 ? 0 : random.nextLong(),
        random.nextInt(3) == 0 ? 0 : random.nextInt(100), sampleIds, tensors, token,
        new boolean[0], padding);
  }

  private static byte[] marshal(BatchPayload p) throws IOException {
    InputStream in = BatchMarshaller.INSTANCE.stream(p);
    assertThat(in).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    assertThat(in.available()).isEqualTo(p.serializedSize());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int written = ((Drainable) in).drainTo(out);
    assertThat(written).isEqualTo(p.serializedSize());
    assertThat(in.available()).isZero();
    return out.toByteArray();
  }

  @Test
  void drainedBytesAreTheGeneratedEncodingForManyShapesOfBatch() throws IOException {
    List<ByteBuffer> chunks = chunks(7, 48 << 10);
    int checked = 0;
    for (int samples : new int[] {1, 3, 64, 300}) {
      for (int scale : new int[] {1, 5, 700}) {
        for (boolean padded : new boolean[] {false, true}) {
          BatchPayload p = randomBatch(samples, padded, samples != 3, 1 + checked % 9, scale,
              chunks);
          Batch generated = p.toProto();
          byte[] ours = marshal(p);
          assertThat(ours).isEqualTo(generated.toByteArray());
          assertThat(Batch.parseFrom(ours)).isEqualTo(generated);
          checked++;
        }
      }
    }
    assertThat(checked).isEqualTo(24);
  }

  @Test
  void emptyBatchAndEmptyTensorsEncodeLikeTheGeneratedCode() throws IOException {
    BatchPayload empty = new BatchPayload(0, 0, new long[0], List.of(), new byte[0],
        new boolean[0], new boolean[0]);
    assertThat(marshal(empty)).isEmpty();
    BatchPayload noData = new BatchPayload(5, 2, new long[] {9}, List.of(
        new TensorPayload("x", 0, new long[0]), new TensorPayload("", 7, new long[] {0, 3})),
        new byte[] {1}, new boolean[] {true}, new boolean[0]);
    assertThat(marshal(noData)).isEqualTo(noData.toProto().toByteArray());
  }

  @Test
  void negativeDimensionsAndEnumsUseTenByteVarintsLikeTheGeneratedCode() throws IOException {
    BatchPayload odd = new BatchPayload(-1, Long.MIN_VALUE, new long[] {-1, Long.MAX_VALUE},
        List.of(new TensorPayload("t", -3, new long[] {-2, 1L << 40})), new byte[0],
        new boolean[0], new boolean[] {false, false});
    assertThat(marshal(odd)).isEqualTo(odd.toProto().toByteArray());
  }

  @Test
  void contiguousSlicesOfOneBufferMergeIntoOne() {
    ByteBuffer chunk = ByteBuffer.allocate(100);
    TensorPayload t = new TensorPayload("x", DType.UINT8.wireNumber(), new long[] {4, 10});
    t.add(chunk, 0, 10).add(chunk, 10, 10).add(chunk, 20, 10).add(chunk.duplicate(), 30, 10);
    assertThat(t.slices()).isEqualTo(2);
    assertThat(t.dataBytes()).isEqualTo(40);
  }

  /**
   * The assumption behind {@link BatchPayload}'s direct writes: gRPC's framer sizes every buffer
   * of a known-length message by what is left of it (the Netty allocator caps each at 1 MiB), so
   * hundreds of sample-sized writes still fill a couple of large buffers. If a gRPC upgrade goes
   * back to sizing buffers by each write, this fails rather than the transport slowing silently.
   */
  @Test
  void grpcFramesAMultiMegabyteBatchOfSmallSlicesInFullOneMebibyteBuffers() throws IOException {
    List<ByteBuffer> chunks = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      byte[] b = new byte[3072 * 600];
      random.nextBytes(b);
      chunks.add(ByteBuffer.wrap(b));
    }
    TensorPayload image = new TensorPayload("image", DType.UINT8.wireNumber(),
        new long[] {512, 3072});
    TensorPayload label = new TensorPayload("label", DType.INT64.wireNumber(), new long[] {512});
    for (int i = 0; i < 512; i++) {
      ByteBuffer c = chunks.get(random.nextInt(chunks.size()));
      int sample = random.nextInt(600);
      image.add(c, sample * 3072, 3072);
      label.add(c, sample * 8, 8);
    }
    BatchPayload p = new BatchPayload(7, 1, new long[0], List.of(image, label), new byte[16],
        new boolean[0], new boolean[0]);

    List<Integer> hints = new ArrayList<>();
    List<io.grpc.internal.WritableBuffer> frames = new ArrayList<>();
    io.grpc.internal.WritableBufferAllocator nettyLike = hint -> {
      hints.add(hint);
      return new ArrayBuffer(Math.min(Math.max(hint, 4096), 1 << 20));
    };
    io.grpc.internal.MessageFramer framer = new io.grpc.internal.MessageFramer(
        (frame, endOfStream, flush, messages) -> {
          if (frame != null) {
            frames.add(frame);
          }
        }, nettyLike, io.grpc.internal.StatsTraceContext.NOOP);
    framer.writePayload(BatchMarshaller.INSTANCE.stream(p));
    framer.flush();

    int wire = 5 + p.serializedSize();
    assertThat(p.serializedSize()).isGreaterThan(3 << 19);
    assertThat(hints).hasSize((wire + (1 << 20) - 1) >> 20);
    ByteArrayOutputStream sent = new ByteArrayOutputStream();
    for (io.grpc.internal.WritableBuffer f : frames) {
      ArrayBuffer a = (ArrayBuffer) f;
      sent.write(a.bytes, 0, a.readableBytes());
    }
    byte[] bytes = sent.toByteArray();
    assertThat(bytes).hasSize(wire);
    assertThat(java.util.Arrays.copyOfRange(bytes, 5, wire))
        .isEqualTo(p.toProto().toByteArray());
  }

  /** A heap {@code WritableBuffer} of fixed capacity, as the test allocator hands out. */
  private static final class ArrayBuffer implements io.grpc.internal.WritableBuffer {
    final byte[] bytes;
    int used;

    ArrayBuffer(int capacity) {
      bytes = new byte[capacity];
    }

    @Override
    public void write(byte[] src, int srcIndex, int length) {
      System.arraycopy(src, srcIndex, bytes, used, length);
      used += length;
    }

    @Override
    public void write(byte b) {
      bytes[used++] = b;
    }

    @Override
    public int writableBytes() {
      return bytes.length - used;
    }

    @Override
    public int readableBytes() {
      return used;
    }

    @Override
    public void release() {}
  }

  @Test
  void readingInsteadOfDrainingGivesTheSameBytes() throws IOException {
    BatchPayload p = randomBatch(50, true, true, 3, 40, chunks(3, 16 << 10));
    InputStream in = BatchMarshaller.INSTANCE.stream(p);
    assertThat(in.readAllBytes()).isEqualTo(p.toProto().toByteArray());
    assertThat(in.read()).isEqualTo(-1);
  }

  @Test
  void parseRoundTripsThroughTheGeneratedMessage() throws IOException {
    BatchPayload p = randomBatch(20, false, true, 4, 3, chunks(2, 4096));
    BatchPayload parsed = BatchMarshaller.INSTANCE.parse(BatchMarshaller.INSTANCE.stream(p));
    assertThat(marshal(parsed)).isEqualTo(p.toProto().toByteArray());
  }
}
