package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.Batch;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Response marshaller of {@code StreamBatches} (and of any RPC that returns {@code stream Batch}):
 * the stream it returns is {@link Drainable} and {@link KnownLength}, so gRPC's framer asks it to
 * write the encoding straight into the transport's buffers, one copy per data byte from the chunk
 * buffers, instead of serializing each tensor into its own array first.
 */
public final class BatchMarshaller implements MethodDescriptor.Marshaller<BatchPayload> {
  /** The one instance; it holds no state. */
  public static final BatchMarshaller INSTANCE = new BatchMarshaller();

  private BatchMarshaller() {}

  @Override
  public InputStream stream(BatchPayload value) {
    return new PayloadStream(value);
  }

  /**
   * Parses a {@code Batch} into a payload whose tensors each hold one slice over their parsed
   * bytes. Servers never call this (they only send batches); it keeps the marshaller two-way.
   */
  @Override
  public BatchPayload parse(InputStream stream) {
    try {
      return fromProto(Batch.parseFrom(stream));
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("malformed Batch: " + e.getMessage()).withCause(e)
          .asRuntimeException();
    }
  }

  /** A payload with the content of {@code b}; tensor data are read-only views, not copies. */
  public static BatchPayload fromProto(Batch b) {
    List<TensorPayload> tensors = new ArrayList<>();
    for (dev.trainfeed.proto.v1.Tensor t : b.getTensorsList()) {
      long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
      TensorPayload p = new TensorPayload(t.getName(), t.getDtypeValue(), shape);
      java.nio.ByteBuffer data = t.getData().asReadOnlyByteBuffer();
      p.add(data, data.position(), data.remaining());
      tensors.add(p);
    }
    long[] ids = b.getSampleIdsList().stream().mapToLong(Long::longValue).toArray();
    boolean[] synthetic = new boolean[b.getSyntheticCount()];
    for (int i = 0; i < synthetic.length; i++) {
      synthetic[i] = b.getSynthetic(i);
    }
    boolean[] padding = new boolean[b.getPaddingCount()];
    for (int i = 0; i < padding.length; i++) {
      padding[i] = b.getPadding(i);
    }
    return new BatchPayload(b.getIndex(), b.getEpoch(), ids, tensors,
        b.getResumeToken().toByteArray(), synthetic, padding);
  }

  /**
   * The encoding of one payload. gRPC drains it once; a transport that reads it instead (the
   * in-process one, or a test) gets the same bytes from a copy made on the first read.
   */
  static final class PayloadStream extends InputStream implements Drainable, KnownLength {
    private BatchPayload payload;
    private ByteArrayInputStream copy;

    PayloadStream(BatchPayload payload) {
      this.payload = payload;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (payload != null) {
        BatchPayload p = payload;
        payload = null;
        return p.writeTo(target);
      }
      return copy == null ? 0 : (int) copy.transferTo(target);
    }

    @Override
    public int available() {
      if (payload != null) {
        return payload.serializedSize();
      }
      return copy == null ? 0 : copy.available();
    }

    @Override
    public int read() throws IOException {
      return materialized().read();
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      return materialized().read(b, off, len);
    }

    private ByteArrayInputStream materialized() throws IOException {
      if (copy == null) {
        int size = payload == null ? 0 : payload.serializedSize();
        ByteArrayOutputStream out = new ByteArrayOutputStream(size);
        if (payload != null) {
          payload.writeTo(out);
          payload = null;
        }
        copy = new ByteArrayInputStream(out.toByteArray());
      }
      return copy;
    }
  }
}
