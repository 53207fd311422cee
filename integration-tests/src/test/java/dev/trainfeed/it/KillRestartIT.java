package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server is killed with SIGKILL in the middle of an epoch and started again on the same port
 * and data: the SDK reconnects and resumes, and a raw resume token taken before the kill works on
 * the new process. Nothing is lost or repeated.
 */
class KillRestartIT {
  private static final int N = 1_500;
  @TempDir Path tmp;

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Test
  void sdkAndRawTokenResumeAfterKillNine() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "1k");
    int port = freePort();
    ServerProcess server = ServerProcess.start(data, port, "--cache-size", "4m");
    List<ServerProcess> all = new ArrayList<>(List.of(server));
    try (TrainFeedClient client = TrainFeedClient.builder().target("127.0.0.1:" + port)
        .reconnectAttempts(30).backoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build()) {
      // Raw client: remember a token from the middle of the epoch.
      ManagedChannel ch = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext()
          .build();
      StreamBatchesRequest req = StreamBatchesRequest.newBuilder().setDataset("ids")
          .setBatchSize(40).setShuffle(true).setSeed(77).setEpoch(1).setWorldSize(2).setRank(1)
          .build();
      List<List<Long>> rawFull = new ArrayList<>();
      DataPlaneGrpc.newBlockingStub(ch).streamBatches(req)
          .forEachRemaining(b -> rawFull.add(b.getSampleIdsList()));
      Iterator<dev.trainfeed.proto.v1.Batch> partial = DataPlaneGrpc.newBlockingStub(ch)
          .streamBatches(req);
      ByteString rawToken = null;
      for (int i = 0; i < 4; i++) {
        rawToken = partial.next().getResumeToken();
      }
      ch.shutdownNow();

      int[] seen = new int[N];
      int batches = 0;
      try (BatchIterator it = client.batches("ids").batchSize(20).shuffle(5).prefetch(2)
          .open()) {
        while (it.hasNext()) {
          Batch b = it.next();
          TestData.assertBytes(b);
          for (long id : b.sampleIds()) {
            seen[(int) id]++;
          }
          batches++;
          if (batches == 10 || batches == 40) {
            server.kill();
            server = ServerProcess.start(data, port, "--cache-size", "4m");
            all.add(server);
          }
        }
      }
      assertThat(batches).isEqualTo((N + 19) / 20);
      assertThat(seen).as("every sample exactly once across two kills").containsOnly(1);

      ManagedChannel ch2 = NettyChannelBuilder.forTarget("127.0.0.1:" + port).usePlaintext()
          .build();
      List<List<Long>> rest = new ArrayList<>();
      DataPlaneGrpc.newBlockingStub(ch2).streamBatches(req.toBuilder().setResumeToken(rawToken)
          .build()).forEachRemaining(b -> rest.add(b.getSampleIdsList()));
      ch2.shutdownNow();
      assertThat(rest).containsExactlyElementsOf(rawFull.subList(4, rawFull.size()));
    } finally {
      for (ServerProcess s : all) {
        s.close();
      }
    }
  }

  /**
   * Ten SDK streams (ten ranks of one job, two epochs each) while the server is killed with
   * SIGKILL at seeded random moments and restarted: every stream resumes and the job sees every
   * sample exactly once per epoch.
   */
  @Test
  void tenStreamsSurviveKillsAtRandomPoints() throws Exception {
    Path data = tmp.resolve("data10");
    TestData.ingest(data, "ids", N, "1k");
    int port = freePort();
    int world = 10;
    List<ServerProcess> all = new ArrayList<>();
    all.add(ServerProcess.start(data, port, "--cache-size", "4m"));
    Random random = new Random(42);
    ExecutorService pool = Executors.newFixedThreadPool(world);
    try (TrainFeedClient client = TrainFeedClient.builder().target("127.0.0.1:" + port)
        .reconnectAttempts(60).backoff(Duration.ofMillis(100), Duration.ofSeconds(1)).build()) {
      AtomicLong delivered = new AtomicLong();
      List<Future<int[][]>> results = new ArrayList<>();
      for (int r = 0; r < world; r++) {
        int rank = r;
        results.add(pool.submit(() -> {
          int[][] seen = new int[2][N];
          try (BatchIterator it = client.batches("ids").batchSize(8).shuffle(13).epochs(2)
              .shard(rank, world).prefetch(2).open()) {
            while (it.hasNext()) {
              Batch b = it.next();
              TestData.assertBytes(b);
              for (int i = 0; i < b.size(); i++) {
                if (!b.isPadding(i)) {
                  seen[(int) b.epoch()][(int) b.sampleIds()[i]]++;
                }
              }
              delivered.incrementAndGet();
              // Slow enough that the kills land mid-epoch.
              Thread.sleep(2);
            }
          }
          return seen;
        }));
      }
      // Total batches: 2 epochs x 10 ranks x ceil(150 / 8) = 380; kill at three random points.
      long total = 2L * world * ((N / world + 7) / 8);
      long[] killAt = {random.nextInt((int) total / 4) + 10, total / 3 + random.nextInt(40),
          total / 2 + random.nextInt(60)};
      for (long at : killAt) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (delivered.get() < at && System.nanoTime() < deadline) {
          Thread.sleep(5);
        }
        all.get(all.size() - 1).kill();
        all.add(ServerProcess.start(data, port, "--cache-size", "4m"));
      }
      int[][] total2 = new int[2][N];
      for (Future<int[][]> f : results) {
        int[][] s = f.get(240, TimeUnit.SECONDS);
        for (int e = 0; e < 2; e++) {
          for (int i = 0; i < N; i++) {
            total2[e][i] += s[e][i];
          }
        }
      }
      assertThat(total2[0]).as("epoch 0, every sample exactly once").containsOnly(1);
      assertThat(total2[1]).as("epoch 1, every sample exactly once").containsOnly(1);
    } finally {
      pool.shutdownNow();
      for (ServerProcess s : all) {
        s.close();
      }
    }
  }
}
