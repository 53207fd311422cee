package dev.trainfeed.client.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses received {@code Batch} messages with one copy: the message is read once from gRPC's
 * receive buffers into an array of its exact size, and the tensors' {@code data} alias that array
 * ({@link CodedInputStream#enableAliasing}) instead of being copied out of it again.
 *
 * <p>Why not zero copies: gRPC can hand over its Netty buffers ({@code Detachable},
 * {@code HasByteBuffer}), but they are pooled direct memory that must be released by hand, while
 * SDK batches are plain values the caller may keep as long as it likes; tying pool memory to
 * garbage collection would let the pool grow without bound. One copy into the heap, the same
 * copy a plain gRPC byte-array reader makes, is the least that keeps batches safe to hold.
 * The generated marshaller makes two for messages up to 4 MiB (into a staging array, then out of
 * it per field) and streams larger ones through a small buffer, copying each field again.
 */
public final class AliasingBatchMarshaller implements MethodDescriptor.Marshaller<Batch> {
  /** The one instance; it holds no state. */
  public static final AliasingBatchMarshaller INSTANCE = new AliasingBatchMarshaller();

  /** {@code StreamBatches} with this marshaller for its responses. */
  public static final MethodDescriptor<StreamBatchesRequest, Batch> STREAM_BATCHES =
      DataPlaneGrpc.getStreamBatchesMethod().toBuilder(
          DataPlaneGrpc.getStreamBatchesMethod().getRequestMarshaller(), INSTANCE).build();

  private static final MethodDescriptor.Marshaller<Batch> GENERATED =
      DataPlaneGrpc.getStreamBatchesMethod().getResponseMarshaller();

  private AliasingBatchMarshaller() {}

  @Override
  public InputStream stream(Batch value) {
    return GENERATED.stream(value);
  }

  @Override
  public Batch parse(InputStream stream) {
    try {
      byte[] message;
      if (stream instanceof KnownLength) {
        message = new byte[stream.available()];
        if (stream.readNBytes(message, 0, message.length) != message.length
            || stream.read() != -1) {
          throw new InvalidProtocolBufferException("the message is not as long as announced");
        }
      } else {
        message = stream.readAllBytes();
      }
      // A ByteString over the array makes an immutable-input reader, which aliasing requires.
      CodedInputStream in = UnsafeByteOperations.unsafeWrap(message).newCodedInput();
      in.enableAliasing(true);
      in.setSizeLimit(Integer.MAX_VALUE);
      return Batch.parser().parseFrom(in);
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("the server sent a Batch that does not parse: "
          + e.getMessage()).withCause(e).asRuntimeException();
    }
  }
}
