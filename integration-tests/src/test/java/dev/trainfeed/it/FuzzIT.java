package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.SyntheticMix;
import dev.trainfeed.proto.v1.SynthesizeRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A few thousand malformed or extreme requests from a seeded generator: random and huge fields,
 * path-traversal names, forged resume tokens, random tokens, and raw garbage bytes on the wire.
 * The server stays up and every answer is a proper status with a message, never UNKNOWN, never
 * a stack trace.
 */
class FuzzIT {
  private static final int REQUESTS = 2_500;
  private static final String TOKEN = "fuzz-token";
  private static final Set<Status.Code> PROPER = Set.of(Status.Code.OK, Status.Code.CANCELLED,
      Status.Code.INVALID_ARGUMENT, Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
  private static final String[] NAMES = {"ids", "other", "../ids", "..", "ids/../../etc/passwd",
      "/etc/passwd", "ids@", "ids@0123456789abcdef", "ids@ZZZ", "", " ", "ids\u0000", "über",
      "a".repeat(129), "a".repeat(5000), "ids%2f..", "C:\\windows", "ids\nother"};
  private static final MethodDescriptor<byte[], byte[]> RAW_STREAM =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
          .setFullMethodName(DataPlaneGrpc.getStreamBatchesMethod().getFullMethodName())
          .setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();
  private static final MethodDescriptor<byte[], byte[]> RAW_GET =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(DataPlaneGrpc.getGetDatasetMethod().getFullMethodName())
          .setRequestMarshaller(new Bytes()).setResponseMarshaller(new Bytes()).build();
  @TempDir Path tmp;

  @Test
  void malformedAndExtremeRequestsGetProperStatusCodes() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", 300, "1k");
    TestData.ingest(data, "other", 50, "1k");
    Path tokens = tmp.resolve("tokens");
    Files.writeString(tokens, TOKEN + " ids\n");
    Random rng = new Random(20240611L);
    Map<Status.Code, Integer> seen = new EnumMap<>(Status.Code.class);
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m",
        "--auth-tokens", tokens.toString(), "--max-batch-bytes", "64k")) {
      ManagedChannel ch = NettyChannelBuilder.forTarget(s.target()).usePlaintext()
          .maxInboundMessageSize(8 << 20).build();
      try {
        for (int i = 0; i < REQUESTS; i++) {
          Status st = oneRequest(ch, rng);
          seen.merge(st.getCode(), 1, Integer::sum);
          String what = "request " + i + ": " + st;
          assertThat(st.getCode()).as(what).isIn(PROPER);
          if (!st.isOk() && st.getCode() != Status.Code.CANCELLED) {
            assertThat(st.getDescription()).as(what).isNotBlank()
                .doesNotContain("\tat ").doesNotContain("Exception");
          }
        }
        // Alive and well.
        assertThat(DataPlaneGrpc.newBlockingStub(ch).withInterceptors(auth(TOKEN)).getDataset(GetDatasetRequest.newBuilder()
                .setName("ids").build()).getNumSamples()).isEqualTo(300);
      } finally {
        ch.shutdownNow();
      }
      System.out.println("fuzz status codes: " + seen);
      assertThat(seen).containsKeys(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
          Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
      assertThat(s.isAlive()).isTrue();
      assertThat(s.log()).doesNotContain("LEAK:").doesNotContain(TOKEN);
    }
  }

  private static Status oneRequest(ManagedChannel ch, Random rng) {
    String token = switch (rng.nextInt(4)) {
      case 0 -> null;
      case 1 -> randomString(rng, 1 + rng.nextInt(64));
      default -> TOKEN;
    };
    Context.CancellableContext ctx = Context.current().withCancellation();
    Context previous = ctx.attach();
    try {
      int kind = rng.nextInt(10);
      if (kind < 6) {
        stream(DataPlaneGrpc.newBlockingStub(ch).withInterceptors(auth(token))
            .withDeadlineAfter(30, TimeUnit.SECONDS).streamBatches(randomRequest(rng)));
      } else if (kind == 6) {
        DataPlaneGrpc.newBlockingStub(ch).withInterceptors(auth(token))
            .withDeadlineAfter(30, TimeUnit.SECONDS)
            .getDataset(GetDatasetRequest.newBuilder().setName(pick(rng)).build());
      } else if (kind == 7) {
        stream(DataPlaneGrpc.newBlockingStub(ch).withInterceptors(auth(token))
            .withDeadlineAfter(30, TimeUnit.SECONDS).synthesize(SynthesizeRequest.newBuilder()
                .setModel(pick(rng)).setCount(rng.nextLong()).setBatchSize(rng.nextInt())
                .setSeed(rng.nextLong()).build()));
      } else {
        byte[] garbage = new byte[rng.nextInt(rng.nextBoolean() ? 64 : 70_000)];
        rng.nextBytes(garbage);
        MethodDescriptor<byte[], byte[]> m = kind == 8 ? RAW_STREAM : RAW_GET;
        ClientCall<byte[], byte[]> call = io.grpc.ClientInterceptors.intercept(ch, auth(token)).newCall(m,
            CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        if (kind == 8) {
          stream(ClientCalls.blockingServerStreamingCall(call, garbage));
        } else {
          ClientCalls.blockingUnaryCall(call, garbage);
        }
      }
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    } finally {
      ctx.detach(previous);
      ctx.cancel(null);
    }
  }

  /** Reads at most three messages, then the finally block cancels the rest. */
  private static void stream(Iterator<?> it) {
    for (int n = 0; n < 3 && it.hasNext(); n++) {
      it.next();
    }
  }

  private static StreamBatchesRequest randomRequest(Random rng) {
    StreamBatchesRequest.Builder b = StreamBatchesRequest.newBuilder()
        .setDataset(pick(rng))
        .setBatchSize(extreme(rng))
        .setShuffle(rng.nextBoolean())
        .setSeed(rng.nextLong())
        .setEpoch(rng.nextBoolean() ? rng.nextInt(3) : rng.nextLong())
        .setWorldSize(rng.nextBoolean() ? rng.nextInt(4) : extreme(rng))
        .setRank(rng.nextBoolean() ? rng.nextInt(4) : extreme(rng))
        .setDropLast(rng.nextBoolean())
        .setShuffleWindow(rng.nextBoolean() ? 0 : extreme(rng));
    if (rng.nextInt(4) == 0) {
      b.addFields(rng.nextBoolean() ? "x" : randomString(rng, 1 + rng.nextInt(20)));
    }
    if (rng.nextInt(4) == 0) {
      byte[] token = new byte[rng.nextInt(200)];
      rng.nextBytes(token);
      b.setResumeToken(ByteString.copyFrom(token));
    }
    if (rng.nextInt(8) == 0) {
      b.setSynthetic(SyntheticMix.newBuilder().setModel(pick(rng))
          .setFraction(rng.nextBoolean() ? rng.nextDouble() : Double.NaN));
    }
    if (rng.nextInt(8) == 0) {
      b.setAugment(AugmentSpec.getDefaultInstance());
    }
    return b.build();
  }

  private static int extreme(Random rng) {
    return switch (rng.nextInt(5)) {
      case 0 -> 0;
      case 1 -> Integer.MAX_VALUE;
      case 2 -> -1; // 2^32 - 1 as uint32
      case 3 -> 1 + rng.nextInt(64);
      default -> rng.nextInt();
    };
  }

  private static String pick(Random rng) {
    return rng.nextInt(3) == 0 ? randomString(rng, rng.nextInt(40)) : NAMES[rng.nextInt(
        NAMES.length)];
  }

  private static String randomString(Random rng, int length) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < length; i++) {
      sb.append((char) (0x21 + rng.nextInt(0x5e)));
    }
    return sb.toString();
  }

  private static io.grpc.ClientInterceptor auth(String token) {
    Metadata h = new Metadata();
    if (token != null) {
      h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + token);
    }
    return MetadataUtils.newAttachHeadersInterceptor(h);
  }

  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
