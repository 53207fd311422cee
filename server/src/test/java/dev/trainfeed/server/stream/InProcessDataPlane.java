package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.DataPlaneGrpc;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** A service on its own in-process gRPC server, with one channel and a blocking stub to it. */
final class InProcessDataPlane implements AutoCloseable {
  final Server server;
  final ManagedChannel channel;
  final DataPlaneGrpc.DataPlaneBlockingStub stub;

  private InProcessDataPlane(Server server, ManagedChannel channel) {
    this.server = server;
    this.channel = channel;
    this.stub = DataPlaneGrpc.newBlockingStub(channel);
  }

  /** Starts {@code service} under a fresh in-process name. */
  static InProcessDataPlane serve(BindableService service) throws IOException {
    String name = InProcessServerBuilder.generateName();
    Server server = InProcessServerBuilder.forName(name).addService(service).build().start();
    return new InProcessDataPlane(server, InProcessChannelBuilder.forName(name).build());
  }

  /** Closes the channel, then the server, waiting up to 5 s for its calls to end. */
  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
