package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.cli.Main;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real server processes over copies of the same data directory and one shared resume key; the
 * SDK reads from the first, which gets SIGTERM in the middle of an epoch. While it drains, its
 * health says NOT_SERVING and new streams are refused with UNAVAILABLE; once the grace (2 s) is
 * over the running stream ends with UNAVAILABLE and the SDK continues on the second server. Every
 * sample arrives exactly once, with the right bytes.
 */
class GracefulShutdownIT {
  private static final int N = 3_000;
  /** Bytes of padding per sample: 24 MB in all, far more than a server buffers ahead. */
  private static final int PAD = 8 << 10;
  @TempDir Path tmp;

  @Test
  void sigtermDrainsAndTheSdkFailsOverWithNothingLostOrRepeated() throws Exception {
    Path a = tmp.resolve("a");
    ingestPadded(a);
    Path b = tmp.resolve("b");
    copyTree(a, b);
    Path key = tmp.resolve("resume.key");
    String[] common = {"--cache-size", "4m", "--resume-key-file", key.toString(),
        "--health-port", "0"};
    ServerProcess first = ServerProcess.start(a, 0, common);
    ServerProcess second = ServerProcess.start(b, 0, common);
    ManagedChannel raw = NettyChannelBuilder.forTarget(first.target()).usePlaintext().build();
    try (TrainFeedClient client = TrainFeedClient.builder()
        .targets(List.of(first.target(), second.target()))
        .reconnectAttempts(10).backoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
        BatchIterator it = client.batches("padded").batchSize(20).shuffle(11).prefetch(2)
            .open()) {
      int[] seen = new int[N];
      int batches = 0;
      for (; batches < 10; batches++) {
        record(it.next(), seen);
      }

      // Connected before the signal: NOT_SERVING is only visible during the 2 s grace, which a
      // first connection made inside it could use up on a slow machine.
      awaitHealth(raw, ServingStatus.SERVING);
      first.sigterm();
      // Draining: health turns NOT_SERVING at once, new streams are refused with UNAVAILABLE,
      // and the stream in progress is left running for the grace.
      awaitHealth(raw, ServingStatus.NOT_SERVING);
      assertThatThrownBy(() -> DataPlaneGrpc.newBlockingStub(raw).streamBatches(
          StreamBatchesRequest.newBuilder().setDataset("padded").setBatchSize(20).build())
          .hasNext())
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
              e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      // The client is not reading, so the stream cannot finish in the grace: it is ended with
      // UNAVAILABLE, and the process exits once its shutdown hook has closed everything (143 =
      // 128 + SIGTERM: the JVM's own exit status after a signal, not a kill).
      assertThat(first.awaitExit(60)).isEqualTo(143);

      while (it.hasNext()) {
        record(it.next(), seen);
        batches++;
      }
      assertThat(batches).isEqualTo(N / 20);
      assertThat(seen).as("every sample exactly once across the failover").containsOnly(1);
      assertThat(batchesSent(second)).as("the second server served the rest").isPositive();
    } finally {
      raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      first.close();
      second.close();
    }
  }

  private static void record(Batch b, int[] seen) {
    TestData.assertBytes(b);
    for (long id : b.sampleIds()) {
      seen[(int) id]++;
    }
  }

  /** The digits-like test fields plus a {@value #PAD}-byte {@code pad} field per sample. */
  private void ingestPadded(Path dataDir) throws IOException {
    Path src = tmp.resolve("src");
    TestData.writeSource(src, N);
    TestData.writeNpy(src.resolve("pad.npy"), "|u1", new long[] {N, PAD}, new byte[N * PAD]);
    int rc = Main.run(new String[] {"ingest", "--data-dir", dataDir.toString(), "--name",
        "padded", "--npy", src.toString(), "--chunk-size", "256k", "--quiet"}, Map.of());
    assertThat(rc).as("ingest exit status").isZero();
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  private static void awaitHealth(ManagedChannel ch, ServingStatus want) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    ServingStatus last = null;
    while (System.nanoTime() < deadline) {
      last = HealthGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS)
          .check(HealthCheckRequest.newBuilder().setService("trainfeed.v1.DataPlane").build())
          .getStatus();
      if (last == want) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("health stayed " + last + ", wanted " + want);
  }

  private static double batchesSent(ServerProcess s) throws Exception {
    String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        "http://127.0.0.1:" + s.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    return text.lines().filter(l -> l.startsWith("trainfeed_batches_sent_total "))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst()
        .orElseThrow();
  }
}
