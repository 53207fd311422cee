package dev.trainfeed.demo;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The yardstick of {@code trainfeed bench --baseline}: a plain grpc-java server on loopback Netty
 * that streams pre-built {@code bytes} messages of a given size, read by a plain client with the
 * same flow control as the SDK (a window of {@code prefetch} requested messages). Both ends use
 * a byte-array marshaller, so each message costs one copy into Netty on the way out and one copy
 * out of Netty on the way in: the least any gRPC stream of byte messages does.
 */
final class ByteStreamBaseline {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ArrayStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            // gRPC's streams know their length: one read straight into the right-sized array.
            byte[] out = new byte[stream.available()];
            if (stream.readNBytes(out, 0, out.length) != out.length || stream.read() != -1) {
              throw new IOException("message length differs from the stream's available()");
            }
            return out;
          } catch (IOException e) {
            throw Status.INTERNAL.withCause(e).asRuntimeException();
          }
        }
      };
  private static final MethodDescriptor<byte[], byte[]> STREAM =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName("trainfeed.bench.ByteStream/Stream")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  private ByteStreamBaseline() {}

  /** An array that gRPC drains with one write into its transport buffers. */
  private static final class ArrayStream extends ByteArrayInputStream
      implements Drainable, KnownLength {
    ArrayStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }

  /** What one baseline run moved. */
  record Result(long messages, long bytes, double seconds) {
    double bytesPerSecond() {
      return bytes / seconds;
    }
  }

  /**
   * Streams {@code messages} messages of {@code messageBytes} each over a fresh loopback server
   * and returns the payload rate seen by the consuming thread.
   *
   * @param distinctBytes the messages cycle through this many distinct bytes (at least one
   *     message): 0 resends one message, whose bytes then stay in the CPU's caches
   * @param window initial Netty flow-control window in bytes, on both ends (auto-tuned after)
   * @param onReadyThreshold bytes the server may buffer before it waits for the reader
   */
  static Result run(long messages, int messageBytes, long distinctBytes, int prefetch,
      int window, int onReadyThreshold) throws IOException, InterruptedException {
    // A ring of distinct messages: a stream of a dataset reads bytes that are in memory but not
    // in the CPU's caches, unlike one message sent again and again.
    int ring = (int) Math.max(1, Math.min(Math.min(1 << 16, messages),
        distinctBytes / messageBytes));
    byte[][] payload = new byte[ring][messageBytes];
    java.util.SplittableRandom random = new java.util.SplittableRandom(1);
    for (byte[] p : payload) {
      random.nextBytes(p);
    }
    ServerServiceDefinition service = ServerServiceDefinition.builder("trainfeed.bench.ByteStream")
        .addMethod(STREAM, ServerCalls.asyncServerStreamingCall(
            (byte[] request, StreamObserver<byte[]> out) -> send(ByteBuffer.wrap(request).getLong(),
                payload, (ServerCallStreamObserver<byte[]>) out, onReadyThreshold)))
        .build();
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .initialFlowControlWindow(window).addService(service).build().start();
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
        .usePlaintext().initialFlowControlWindow(window).maxInboundMessageSize(Integer.MAX_VALUE).build();
    try {
      BlockingQueue<Object> events = new ArrayBlockingQueue<>(prefetch + 2);
      ClientCall<byte[], byte[]> call = channel.newCall(STREAM, CallOptions.DEFAULT);
      long start = System.nanoTime();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(byte[] message) {
          events.add(message);
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          events.add(status);
        }
      }, new Metadata());
      call.sendMessage(ByteBuffer.allocate(8).putLong(messages).array());
      call.halfClose();
      call.request(prefetch);
      long received = 0;
      long bytes = 0;
      while (true) {
        Object e = events.take();
        if (e instanceof byte[] m) {
          received++;
          bytes += m.length;
          call.request(1);
        } else {
          Status s = (Status) e;
          if (!s.isOk()) {
            throw new IOException("baseline stream failed: " + s);
          }
          break;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      return new Result(received, bytes, seconds);
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Sends {@code count} messages, cycling through {@code payload}, as fast as flow control lets it. */
  private static void send(long count, byte[][] payload, ServerCallStreamObserver<byte[]> out,
      int onReadyThreshold) {
    out.setOnReadyThreshold(onReadyThreshold);
    long[] sent = {0};
    Runnable drain = () -> {
      synchronized (sent) {
        while (sent[0] < count && out.isReady() && !out.isCancelled()) {
          out.onNext(payload[(int) (sent[0] % payload.length)]);
          sent[0]++;
        }
        if (sent[0] == count) {
          sent[0]++;
          out.onCompleted();
        }
      }
    };
    out.setOnReadyHandler(drain);
    out.setOnCancelHandler(() -> { });
    drain.run();
  }
}
