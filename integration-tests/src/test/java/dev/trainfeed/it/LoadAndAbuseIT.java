package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * One real server under load and abuse: 32 concurrent streams over two epochs with bounded
 * memory; clients that cancel, stall without reading, or vanish; and a look at the server's own
 * sockets proving it opened no outbound connection.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LoadAndAbuseIT {
  private static final int N = 1_000;
  private static final long MIB = 1 << 20;
  @TempDir static Path tmp;
  static ServerProcess server;

  @BeforeAll
  static void start() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "1k");
    server = ServerProcess.start(data, 0, "--cache-size", "8m");
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.closeWithoutLeaks();
    }
  }

  @Test
  @Order(1)
  void thirtyTwoConcurrentStreamsOverTwoEpochsWithBoundedMemory() throws Exception {
    double heapBefore = Metrics.value(server, "jvm_memory_used_bytes", "area=\"heap\"");
    double directBefore = Metrics.value(server, "jvm_buffer_memory_used_bytes", "id=\"direct\"");
    int streams = 32;
    ExecutorService pool = Executors.newFixedThreadPool(streams);
    try (TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build()) {
      List<Future<int[][]>> results = new ArrayList<>();
      for (int s = 0; s < streams; s++) {
        long seed = s;
        results.add(pool.submit(() -> {
          int[][] seen = new int[2][N];
          try (BatchIterator it = client.batches("ids").batchSize(16 + (int) seed).shuffle(seed)
              .epochs(2).prefetch(2).open()) {
            while (it.hasNext()) {
              Batch b = it.next();
              TestData.assertBytes(b);
              for (long id : b.sampleIds()) {
                seen[(int) b.epoch()][(int) id]++;
              }
            }
          }
          return seen;
        }));
      }
      for (Future<int[][]> f : results) {
        int[][] seen = f.get(120, TimeUnit.SECONDS);
        assertThat(seen[0]).containsOnly(1);
        assertThat(seen[1]).containsOnly(1);
      }
    } finally {
      pool.shutdownNow();
    }
    awaitNoStreams();
    server.gc(); // what the server retains after the streams, not garbage awaiting collection
    double heapAfter = Metrics.value(server, "jvm_memory_used_bytes", "area=\"heap\"");
    double directAfter = Metrics.value(server, "jvm_buffer_memory_used_bytes", "id=\"direct\"");
    System.out.printf(Locale.ROOT, "32 streams x 2 epochs: heap %.1f -> %.1f MiB, direct %.1f -> "
        + "%.1f MiB%n", heapBefore / MIB, heapAfter / MIB, directBefore / MIB, directAfter / MIB);
    // After a full GC: what the server keeps once 32 streams ended (about 25 MiB when measured).
    assertThat(heapAfter).as("heap retained after GC, bytes (-Xmx512m)").isLessThan(128.0 * MIB);
    assertThat(directAfter - directBefore).as("direct buffer growth, bytes").isLessThan(64.0 * MIB);
  }

  @Test
  @Order(2)
  void clientsThatCancelStallOrVanishReleaseTheirStreams() throws Exception {
    // Cancel after two batches.
    ManagedChannel ch = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
    StreamBatchesRequest req = StreamBatchesRequest.newBuilder().setDataset("ids").setBatchSize(8)
        .build();
    io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
    ctx.run(() -> {
      Iterator<dev.trainfeed.proto.v1.Batch> it = DataPlaneGrpc.newBlockingStub(ch)
          .streamBatches(req);
      it.next();
      it.next();
    });
    ctx.cancel(null);
    // Stall: take one batch and never ask for more, then vanish by shutting the channel down.
    ManagedChannel stalled = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
    CountDownLatch first = new CountDownLatch(1);
    DataPlaneGrpc.newStub(stalled).streamBatches(req,
        new ClientResponseObserver<StreamBatchesRequest, dev.trainfeed.proto.v1.Batch>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StreamBatchesRequest> call) {
            call.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(dev.trainfeed.proto.v1.Batch b) {
            first.countDown();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
    // A client process that stalls, then is killed with SIGKILL.
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), StallingClient.class.getName(), server.target(),
        "ids"));
    Process client = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(client.getInputStream(),
        StandardCharsets.UTF_8))) {
      String line;
      do {
        line = r.readLine();
      } while (line != null && !line.equals("stalled"));
      assertThat(line).as("the client process got its first batch").isEqualTo("stalled");
    }
    // (The epoch is small enough to fit the transport's buffers, so the server side may already
    // have finished sending; what matters is that nothing stays behind once the clients are gone.
    // StalledStreamsIT stalls a stream far larger than the windows.)
    client.destroyForcibly();
    client.waitFor(30, TimeUnit.SECONDS);
    stalled.shutdownNow();
    ch.shutdownNow();
    awaitNoStreams();
    // Everyone else is still served.
    try (TrainFeedClient c = TrainFeedClient.builder().target(server.target()).build();
        BatchIterator it = c.batches("ids").batchSize(100).open()) {
      int count = 0;
      while (it.hasNext()) {
        count += it.next().sampleIds().length;
      }
      assertThat(count).isEqualTo(N);
    }
  }

  @Test
  @Order(3)
  void theServerOpensNoOutboundConnection() throws Exception {
    // Every TCP socket the server process owns is either listening or a loopback connection to
    // one of its own listening ports; it owns no UDP socket (so no DNS lookups either).
    Set<Long> inodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc", Long.toString(server.pid()), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(Long.parseLong(target.substring(8, target.length() - 1)));
          }
        } catch (java.io.IOException closedMeanwhile) {
          // a descriptor closed while we listed them
        }
      }
    }
    Path net = Path.of("/proc", Long.toString(server.pid()), "net");
    List<String[]> tcp = new ArrayList<>();
    for (String f : List.of("tcp", "tcp6")) {
      tcp.addAll(sockets(net.resolve(f), inodes));
    }
    Set<Integer> listening = new HashSet<>();
    for (String[] s : tcp) {
      if (s[3].equals("0A")) {
        listening.add(port(s[1]));
      }
    }
    assertThat(listening).contains(server.port(), server.metricsPort());
    for (String[] s : tcp) {
      if (!s[3].equals("0A")) {
        assertThat(isLoopback(s[2])).as("remote end %s is loopback", s[2]).isTrue();
        assertThat(listening).as("connection %s -> %s is inbound", s[1], s[2])
            .contains(port(s[1]));
      }
    }
    for (String f : List.of("udp", "udp6")) {
      assertThat(sockets(net.resolve(f), inodes)).as(f + " sockets of the server").isEmpty();
    }
    String log = server.log().toLowerCase(Locale.ROOT);
    assertThat(log).doesNotContain("analytics").doesNotContain("google");
  }

  /** Lines of a /proc/net table owned by {@code inodes}: [sl, local, remote, state, ...]. */
  private static List<String[]> sockets(Path table, Set<Long> inodes) throws Exception {
    List<String[]> out = new ArrayList<>();
    if (!Files.exists(table)) {
      return out;
    }
    List<String> lines = Files.readAllLines(table);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.trim().split("\\s+");
      if (inodes.contains(Long.parseLong(f[9]))) {
        out.add(f);
      }
    }
    return out;
  }

  private static int port(String hexAddress) {
    return Integer.parseInt(hexAddress.substring(hexAddress.indexOf(':') + 1), 16);
  }

  private static boolean isLoopback(String hexAddress) {
    String ip = hexAddress.substring(0, hexAddress.indexOf(':'));
    return ip.equals("0100007F") // 127.0.0.1, little-endian
        || ip.equals("00000000000000000000000001000000") // ::1
        || ip.equals("0000000000000000FFFF00000100007F"); // ::ffff:127.0.0.1
  }

  private static void awaitNoStreams() throws Exception {
    Eventually.await("trainfeed_streams_active to return to 0", Duration.ofSeconds(60),
        () -> Metrics.value(server, "trainfeed_streams_active", "") == 0);
  }
}
