package dev.trainfeed.client;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A {@link FakeDataPlane} on the in-process transport, with a client that never really sleeps. */
final class InProcessFixture implements AutoCloseable {
  final FakeDataPlane service;
  final List<Metadata> headers = new CopyOnWriteArrayList<>();
  final List<Duration> sleeps = new CopyOnWriteArrayList<>();
  final Server server;
  final ManagedChannel channel;

  InProcessFixture(int numSamples) throws IOException {
    service = new FakeDataPlane(numSamples);
    String name = InProcessServerBuilder.generateName();
    ServerInterceptor capture = new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata md,
          ServerCallHandler<Q, A> next) {
        headers.add(md);
        return next.startCall(call, md);
      }
    };
    server = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(service, capture)).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  TrainFeedClient.Builder clientBuilder() {
    return TrainFeedClient.builder().channel(channel).sleeper(sleeps::add);
  }

  TrainFeedClient client() {
    return clientBuilder().build();
  }

  @Override
  public void close() {
    try {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
