package dev.trainfeed.client;

import static dev.trainfeed.client.Drained.drain;
import static dev.trainfeed.client.Drained.ids;
import static dev.trainfeed.client.Drained.token;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.FakeDataPlane.Failure;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Over real sockets: failover between replicas, a server killed and restarted, the receive limit.
 */
class NettyTransportTest {
  private final List<Server> servers = new ArrayList<>();
  private final List<Duration> sleeps = new CopyOnWriteArrayList<>();

  @AfterEach
  void stopServers() throws InterruptedException {
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private Server start(FakeDataPlane service, int port) {
    try {
      Server s = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
          .addService(service).build().start();
      servers.add(s);
      return s;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String target(Server s) {
    return "127.0.0.1:" + s.getPort();
  }

  @Test
  void failsOverToTheNextReplicaWithTheLastToken() {
    FakeDataPlane first = new FakeDataPlane(10);
    FakeDataPlane second = new FakeDataPlane(10);
    first.failures.add(new Failure(2, Status.UNAVAILABLE.withDescription("server draining")));
    Server a = start(first, 0);
    Server b = start(second, 0);
    List<Batch> batches;
    try (TrainFeedClient client = TrainFeedClient.builder().targets(List.of(target(a), target(b)))
            .sleeper(sleeps::add).build();
         BatchIterator it = client.batches("toy").batchSize(2).open()) {
      batches = drain(it);
    }
    assertThat(ids(batches)).containsExactly(LongStream.range(0, 10).toArray());
    assertThat(first.requests).extracting(Drained::token).containsExactly("");
    assertThat(second.requests).extracting(Drained::token).containsExactly("e0:2");
    assertThat(sleeps).hasSize(1);
  }

  @Test
  void skipsAReplicaThatIsDown() throws IOException {
    // A port bound but not listening refuses connections for as long as the socket is held; a
    // port probed and closed again could meanwhile be taken by another server on the machine.
    try (Socket dead = new Socket()) {
      dead.bind(new InetSocketAddress("127.0.0.1", 0));
      int deadPort = dead.getLocalPort();
      FakeDataPlane live = new FakeDataPlane(10);
      Server b = start(live, 0);
      try (TrainFeedClient client = TrainFeedClient.builder()
              .targets(List.of("127.0.0.1:" + deadPort, target(b))).sleeper(sleeps::add)
              .build()) {
        assertThat(client.dataset("toy").numSamples()).isEqualTo(10);
        try (BatchIterator it = client.batches("toy").batchSize(3).open()) {
          assertThat(ids(drain(it))).containsExactly(LongStream.range(0, 10).toArray());
        }
      }
    }
    assertThat(sleeps).hasSize(1);
  }

  @Test
  void survivesServerKilledAndRestartedOnTheSamePort() throws Exception {
    FakeDataPlane before = new FakeDataPlane(20);
    before.failures.add(new Failure(8, null));
    Server server = start(before, 0);
    int port = server.getPort();
    FakeDataPlane after = new FakeDataPlane(20);
    Sleeper restartOnFirstSleep = d -> {
      if (sleeps.isEmpty()) {
        start(after, port);
      }
      sleeps.add(d);
    };
    List<Batch> batches = new ArrayList<>();
    try (TrainFeedClient client = TrainFeedClient.builder().target(target(server))
            .sleeper(restartOnFirstSleep).build();
         BatchIterator it = client.batches("toy").batchSize(1).prefetch(4).open()) {
      for (int i = 0; i < 3; i++) {
        batches.add(it.next());
      }
      // Let the server get ahead of the caller, then kill it with batches still in flight.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (before.sent.get() < 7 && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      // The restart binds the same port, which is free only once the server has terminated.
      assertThat(server.shutdownNow().awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      batches.addAll(drain(it));
    }
    assertThat(ids(batches)).containsExactly(LongStream.range(0, 20).toArray());
    assertThat(sleeps).isNotEmpty();
    int handedOutBeforeRestart = 20 - after.sent.get();
    assertThat(handedOutBeforeRestart).isBetween(3, 8);
    assertThat(after.requests).extracting(Drained::token)
        .containsExactly("e0:" + handedOutBeforeRestart);
  }

  @Test
  void batchOverTheReceiveLimitSaysWhichSettingToRaise() {
    Server s = start(new FakeDataPlane(70_000), 0);
    try (TrainFeedClient client = TrainFeedClient.builder().target(target(s))
            .maxInboundMessageBytes(1 << 20).sleeper(sleeps::add).build();
         BatchIterator it = client.batches("toy").batchSize(70_000).open()) {
      assertThatThrownBy(it::hasNext).isInstanceOfSatisfying(TrainFeedException.class, e -> {
        assertThat(e.code()).isEqualTo(TrainFeedException.Code.RESOURCE_EXHAUSTED);
        assertThat(e.serverMessage()).contains("maxInboundMessageBytes");
      });
    }
    assertThat(sleeps).isEmpty();
  }
}
