package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCalls;

/**
 * The service definition a server registers for {@link DataPlaneService}: the generated one, with
 * {@code StreamBatches} answered through {@link BatchMarshaller}. Method names, types and the
 * schema descriptor (for reflection) stay those of the generated code; only how a {@code Batch}
 * becomes bytes changes, and the bytes are the same.
 *
 * <p>Serve it on a transport that serializes each message inside {@code onNext}, as Netty's and
 * OkHttp's do: batches slice chunk buffers, including pinned views of the cache's pages, that the
 * stream lets go of after the batch has been sent. The in-process transport reads messages later,
 * on the client's thread; with it, bind the generated service ({@code bindService()}), which
 * copies each batch into a {@code Batch} first.
 */
public final class DataPlaneBinding {
  private DataPlaneBinding() {}

  /** Binds {@code service} with the zero-copy {@code StreamBatches} response marshaller. */
  public static ServerServiceDefinition bind(DataPlaneService service) {
    ServerServiceDefinition generated = service.bindService();
    MethodDescriptor<StreamBatchesRequest, BatchPayload> streamBatches =
        DataPlaneGrpc.getStreamBatchesMethod().toBuilder(
            DataPlaneGrpc.getStreamBatchesMethod().getRequestMarshaller(),
            BatchMarshaller.INSTANCE).build();
    ServiceDescriptor original = generated.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(original.getName())
        .setSchemaDescriptor(original.getSchemaDescriptor());
    for (MethodDescriptor<?, ?> m : original.getMethods()) {
      descriptor.addMethod(m.getFullMethodName().equals(streamBatches.getFullMethodName())
          ? streamBatches : m);
    }
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(descriptor.build());
    for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
      if (!m.getMethodDescriptor().getFullMethodName()
          .equals(streamBatches.getFullMethodName())) {
        b.addMethod(m);
      }
    }
    b.addMethod(streamBatches, ServerCalls.asyncServerStreamingCall(
        service::streamBatchPayloads));
    return b.build();
  }
}
