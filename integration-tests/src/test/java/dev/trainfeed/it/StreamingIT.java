package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.ResumeToken;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One real server process on a real socket, read through the Java SDK and a raw gRPC stub. */
class StreamingIT {
  private static final int N = 2_003;
  @TempDir static Path tmp;
  static ServerProcess server;
  static TrainFeedClient client;
  static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    Path data = tmp.resolve("data");
    // 20 bytes per sample, 1 KiB chunks: about 40 chunks.
    TestData.ingest(data, "ids", N, "1k");
    TestData.ingest(data, "fragile", 300, "1k");
    server = ServerProcess.start(data, 0, "--cache-size", "8m", "--max-streams", "64",
        "--max-batch-bytes", "16k");
    client = TrainFeedClient.builder().target(server.target()).build();
    channel = NettyChannelBuilder.forTarget(server.target()).usePlaintext().build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.terminateWithoutLeaks();
    }
  }

  @Test
  void healthIsServing() {
    HealthCheckResponse r = HealthGrpc.newBlockingStub(channel)
        .check(HealthCheckRequest.newBuilder().setService("trainfeed.v1.DataPlane").build());
    assertThat(r.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }

  @Test
  void everySampleExactlyOnceAcrossRanksAndEpochs() {
    assertThat(client.dataset("ids").numChunks()).isGreaterThan(30);
    for (int world : new int[] {1, 2, 3, 5}) {
      for (long epoch = 0; epoch < 2; epoch++) {
        int[] seen = new int[N];
        List<Integer> counts = new ArrayList<>();
        for (int rank = 0; rank < world; rank++) {
          int batches = 0;
          try (BatchIterator it = client.batches("ids").batchSize(64).shuffle(11).epoch(epoch)
              .shard(rank, world).open()) {
            while (it.hasNext()) {
              Batch b = it.next();
              assertThat(b.epoch()).isEqualTo(epoch);
              TestData.assertBytes(b);
              for (int i = 0; i < b.size(); i++) {
                if (!b.isPadding(i)) {
                  seen[(int) b.sampleIds()[i]]++;
                }
              }
              batches++;
            }
          }
          counts.add(batches);
        }
        assertThat(counts).as("equal batch counts, world %d", world).containsOnly(counts.get(0));
        assertThat(seen).as("world %d epoch %d", world, epoch).containsOnly(1);
      }
    }
  }

  @Test
  void severalEpochsInOneIteratorChangeTheOrder() {
    List<List<Long>> epochs = new ArrayList<>();
    try (BatchIterator it = client.batches("ids").batchSize(100).shuffle(3).epochs(2).open()) {
      epochs.add(new ArrayList<>());
      long current = 0;
      while (it.hasNext()) {
        Batch b = it.next();
        if (b.epoch() != current) {
          current = b.epoch();
          epochs.add(new ArrayList<>());
        }
        for (long id : b.sampleIds()) {
          epochs.get(epochs.size() - 1).add(id);
        }
      }
    }
    assertThat(epochs).hasSize(2);
    assertThat(epochs.get(0)).hasSize(N).doesNotHaveDuplicates();
    assertThat(epochs.get(1)).hasSize(N).doesNotHaveDuplicates().isNotEqualTo(epochs.get(0));
  }

  @Test
  void resumeMidEpochWithTheSdkContinuesExactly() {
    List<long[]> full = new ArrayList<>();
    try (BatchIterator it = client.batches("ids").batchSize(50).shuffle(8).epoch(1).shard(1, 3)
        .open()) {
      it.forEachRemaining(b -> full.add(b.sampleIds()));
    }
    ResumeToken token;
    try (BatchIterator it = client.batches("ids").batchSize(50).shuffle(8).epoch(1).shard(1, 3)
        .open()) {
      for (int i = 0; i < 5; i++) {
        it.next();
      }
      token = it.lastResumeToken().orElseThrow();
    }
    // A checkpoint kept as text carries its epoch: no .epoch(1) needed to resume.
    ResumeToken parsed = ResumeToken.parse(token.toString());
    List<long[]> rest = new ArrayList<>();
    try (BatchIterator it = client.batches("ids").batchSize(50).shuffle(8).shard(1, 3)
        .resumeFrom(parsed).open()) {
      it.forEachRemaining(b -> rest.add(b.sampleIds()));
    }
    assertThat(rest).containsExactlyElementsOf(full.subList(5, full.size()));
  }

  @Test
  void badRequestsGetTheRightStatusCodes() {
    DataPlaneGrpc.DataPlaneBlockingStub stub = DataPlaneGrpc.newBlockingStub(channel);
    StreamBatchesRequest ok = StreamBatchesRequest.newBuilder().setDataset("ids").setBatchSize(8)
        .build();
    assertCode(stub, ok.toBuilder().setBatchSize(0).build(), Status.Code.INVALID_ARGUMENT);
    assertCode(stub, ok.toBuilder().setRank(4).setWorldSize(4).build(),
        Status.Code.INVALID_ARGUMENT);
    assertCode(stub, ok.toBuilder().addFields("nope").build(), Status.Code.INVALID_ARGUMENT);
    assertCode(stub, ok.toBuilder().setDataset("a/b").build(), Status.Code.INVALID_ARGUMENT);
    assertCode(stub, ok.toBuilder().setDataset("nothing-here").build(), Status.Code.NOT_FOUND);
    assertCode(stub, ok.toBuilder().setBatchSize(5000).build(),
        Status.Code.RESOURCE_EXHAUSTED);
    assertCode(stub, ok.toBuilder().setResumeToken(com.google.protobuf.ByteString.copyFromUtf8(
        "not a token")).build(), Status.Code.INVALID_ARGUMENT);
    var token = stub.streamBatches(ok).next().getResumeToken();
    assertCode(stub, ok.toBuilder().setSeed(1).setResumeToken(token).build(),
        Status.Code.FAILED_PRECONDITION);
    // The SDK surfaces the same codes.
    assertThatThrownBy(() -> client.batches("nothing-here").batchSize(4).open().hasNext())
        .hasMessageContaining("nothing-here");
  }

  private static void assertCode(DataPlaneGrpc.DataPlaneBlockingStub stub, StreamBatchesRequest r,
      Status.Code code) {
    assertThatThrownBy(() -> stub.streamBatches(r).forEachRemaining(b -> { }))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getStatus().getDescription()).isNotBlank().doesNotContain("\tat ");
            });
  }

  @Test
  void eightConcurrentStreamsEachSeeTheirShareExactlyOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<int[]>> results = new ArrayList<>();
      for (int r = 0; r < 8; r++) {
        int rank = r;
        results.add(pool.submit(() -> {
          int[] seen = new int[N];
          try (BatchIterator it = client.batches("ids").batchSize(16).shuffle(21).epoch(4)
              .shard(rank, 8).prefetch(2).open()) {
            it.forEachRemaining(b -> {
              TestData.assertBytes(b);
              for (int i = 0; i < b.size(); i++) {
                if (!b.isPadding(i)) {
                  seen[(int) b.sampleIds()[i]]++;
                }
              }
            });
          }
          return seen;
        }));
      }
      int[] total = new int[N];
      for (Future<int[]> f : results) {
        int[] s = f.get(120, TimeUnit.SECONDS);
        for (int i = 0; i < N; i++) {
          total[i] += s[i];
        }
      }
      assertThat(total).containsOnly(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void cancelMidStreamFreesTheStream() throws Exception {
    for (int i = 0; i < 5; i++) {
      try (BatchIterator it = client.batches("ids").batchSize(1).prefetch(1).open()) {
        it.next();
        it.next();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    double active;
    do {
      Thread.sleep(100);
      active = metric("trainfeed_streams_active");
    } while (active > 0 && System.nanoTime() < deadline);
    assertThat(active).isZero();
  }

  @Test
  void metricsEndpointExportsTheRequiredNames() throws Exception {
    try (BatchIterator it = client.batches("ids").batchSize(500).open()) {
      it.forEachRemaining(b -> { });
    }
    String text = scrape();
    for (String name : List.of("trainfeed_batches_sent_total", "trainfeed_batch_bytes_sent_total",
        "trainfeed_streams_active", "trainfeed_cache_hits_total", "trainfeed_cache_misses_total",
        "trainfeed_store_read_bytes_total", "trainfeed_stream_stall_seconds_total",
        "trainfeed_cache_size_bytes", "trainfeed_cache_capacity_bytes",
        "trainfeed_chunk_load_seconds_bucket", "jvm_memory_used_bytes")) {
      assertThat(text).as(name).containsPattern("(?m)^" + name + "(\\{| )");
    }
    assertThat(metric("trainfeed_batches_sent_total")).isPositive();
    assertThat(metric("trainfeed_store_read_bytes_total")).isPositive();
  }

  @Test
  void damagedChunkEndsTheStreamWithDataLossNamingTheChunk() throws Exception {
    Path chunk;
    try (Stream<Path> files = Files.walk(tmp.resolve("data").resolve("datasets")
        .resolve("fragile"))) {
      chunk = files.filter(p -> p.getFileName().toString().startsWith("chunk-")).sorted()
          .skip(2).findFirst().orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(chunk.toFile(), "rw")) {
      f.seek(5);
      int b = f.read();
      f.seek(5);
      f.write(b ^ 0xff);
    }
    DataPlaneGrpc.DataPlaneBlockingStub stub = DataPlaneGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> stub.streamBatches(StreamBatchesRequest.newBuilder()
        .setDataset("fragile").setBatchSize(10).build()).forEachRemaining(b -> { }))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DATA_LOSS);
          assertThat(e.getStatus().getDescription()).contains("fragile").contains("chunk 2");
        });
    // The server keeps serving everyone else.
    assertThat(client.dataset("ids").numSamples()).isEqualTo(N);
  }

  static String scrape() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  static double metric(String name) throws Exception {
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
        .matcher(scrape());
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }
}
