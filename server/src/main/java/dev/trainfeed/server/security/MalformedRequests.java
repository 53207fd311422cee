package dev.trainfeed.server.security;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;

/**
 * Answers request bytes that are not a valid message with {@code INVALID_ARGUMENT}. Without this,
 * grpc-java reports a parse failure as {@code UNKNOWN "Application error processing RPC"}, which
 * tells the client nothing it can fix.
 */
public final class MalformedRequests {
  private MalformedRequests() {}

  /** {@code service} with every method's request parser guarded as described above. */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    ServiceDescriptor sd = service.getServiceDescriptor();
    ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(sd.getName())
        .setSchemaDescriptor(sd.getSchemaDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      descriptor.addMethod(guarded(m.getMethodDescriptor()));
    }
    ServiceDescriptor guardedDescriptor = descriptor.build();
    ServerServiceDefinition.Builder b = ServerServiceDefinition.builder(guardedDescriptor);
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      add(b, guardedDescriptor, m);
    }
    return b.build();
  }

  @SuppressWarnings("unchecked")
  private static <Q, R> void add(ServerServiceDefinition.Builder b, ServiceDescriptor sd,
      ServerMethodDefinition<Q, R> m) {
    for (MethodDescriptor<?, ?> md : sd.getMethods()) {
      if (md.getFullMethodName().equals(m.getMethodDescriptor().getFullMethodName())) {
        b.addMethod((MethodDescriptor<Q, R>) md, handler(m.getServerCallHandler(),
            md.getFullMethodName()));
      }
    }
  }

  private static <Q, R> MethodDescriptor<Q, R> guarded(MethodDescriptor<Q, R> md) {
    MethodDescriptor.Marshaller<Q> inner = md.getRequestMarshaller();
    MethodDescriptor.Marshaller<Q> safe = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(Q value) {
        return inner.stream(value);
      }

      @Override
      public Q parse(InputStream stream) {
        try {
          return inner.parse(stream);
        } catch (StatusRuntimeException | IllegalArgumentException e) {
          return null; // the handler below answers INVALID_ARGUMENT
        }
      }
    };
    return md.toBuilder().setRequestMarshaller(safe).build();
  }

  private static <Q, R> ServerCallHandler<Q, R> handler(ServerCallHandler<Q, R> next,
      String method) {
    return (call, headers) -> {
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          if (message == null) {
            refused = true;
            call.close(Status.INVALID_ARGUMENT.withDescription("the request is not a valid "
                + method + " request message; send one encoded from the published .proto"),
                new Metadata());
            return;
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }

        @Override
        public void onReady() {
          if (!refused) {
            super.onReady();
          }
        }
      };
    };
  }
}
