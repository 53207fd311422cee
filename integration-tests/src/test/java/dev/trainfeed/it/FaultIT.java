package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.LocalChunkStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damage on disk and crashes: a chunk that fails its checksum ends only the streams that need it,
 * a damaged or truncated cache file never stops a start, and an ingest killed with SIGKILL at
 * random points leaves the old or the complete new dataset.
 */
class FaultIT {
  @TempDir Path tmp;

  @Test
  void damagedChunkEndsOnlyTheStreamsThatNeedItAndIsCounted() throws Exception {
    Path data = tmp.resolve("data");
    int n = 800;
    TestData.ingest(data, "ids", n, "1k");
    Path chunk;
    try (Stream<Path> files = Files.walk(data.resolve("datasets").resolve("ids"))) {
      chunk = files.filter(p -> p.getFileName().toString().startsWith("chunk-")).sorted()
          .findFirst().orElseThrow();
    }
    flipByte(chunk, 7);
    int world = 4;
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m")) {
      ManagedChannel ch = NettyChannelBuilder.forTarget(s.target()).usePlaintext().build();
      ExecutorService pool = Executors.newFixedThreadPool(world);
      try {
        // Unshuffled, rank 0 owns the first positions and so chunk 0; the other ranks never read it.
        List<Future<Object>> results = new ArrayList<>();
        for (int r = 0; r < world; r++) {
          int rank = r;
          results.add(pool.submit(() -> {
            int[] count = {0};
            try {
              DataPlaneGrpc.newBlockingStub(ch).streamBatches(StreamBatchesRequest.newBuilder()
                  .setDataset("ids").setBatchSize(25).setWorldSize(world).setRank(rank).build())
                  .forEachRemaining(b -> count[0] += b.getSampleIdsCount());
              return count[0];
            } catch (StatusRuntimeException e) {
              return e.getStatus();
            }
          }));
        }
        Object rank0 = results.get(0).get(60, TimeUnit.SECONDS);
        assertThat(rank0).isInstanceOfSatisfying(Status.class, st -> {
          assertThat(st.getCode()).isEqualTo(Status.Code.DATA_LOSS);
          assertThat(st.getDescription()).contains("ids").contains("chunk 0");
        });
        for (int r = 1; r < world; r++) {
          assertThat(results.get(r).get(60, TimeUnit.SECONDS)).as("rank " + r)
              .isEqualTo(n / world);
        }
      } finally {
        pool.shutdownNow();
        ch.shutdownNow();
      }
      assertThat(Metrics.value(s, "trainfeed_chunk_corruptions_total", "dataset=\"ids\""))
          .isGreaterThanOrEqualTo(1);
      // The other ranks' bytes were right, and the server still serves them.
      try (TrainFeedClient c = TrainFeedClient.builder().target(s.target()).build();
          BatchIterator it = c.batches("ids").batchSize(25).shard(1, world).open()) {
        while (it.hasNext()) {
          TestData.assertBytes(it.next());
        }
      }
      assertThat(s.log()).doesNotContain("LEAK:");
    }
  }

  @Test
  void damagedAndTruncatedCacheFilesNeverStopTheServer() throws Exception {
    Path data = tmp.resolve("data");
    int n = 600;
    TestData.ingest(data, "ids", n, "1k");
    Path cacheDir = data.resolve("cache");
    readAll(data);
    Random rng = new Random(42);
    // Garbage in the middle of the map and a garbage sidecar.
    damage(cacheDir, (file, size) -> {
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        byte[] junk = new byte[(int) Math.min(size, 64 << 10)];
        rng.nextBytes(junk);
        f.seek(size / 3);
        f.write(junk);
      }
    });
    readAll(data);
    // Truncated to a third, sidecar cut short.
    damage(cacheDir, (file, size) -> {
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.setLength(size / 3);
      }
    });
    readAll(data);
  }

  @Test
  void ingestKilledWithSigkillLeavesTheOldOrTheCompleteNewDataset() throws Exception {
    Path data = tmp.resolve("data");
    int oldN = 500;
    int newN = 30_000;
    TestData.ingest(data, "big", oldN, "1k");
    Path src = tmp.resolve("src-new");
    TestData.writeSource(src, newN);
    Random rng = new Random(7);
    int finished = 0;
    for (int attempt = 0; attempt < 4; attempt++) {
      Process p = javaMain("ingest", "--data-dir", data.toString(), "--name", "big", "--npy",
          src.toString(), "--chunk-size", "4k", "--quiet");
      int delay = rng.nextInt(2500);
      if (attempt == 0) {
        // However fast the machine, one kill lands mid-ingest: as soon as it writes chunks.
        awaitIngestWriting(data, p);
      } else {
        Thread.sleep(delay);
      }
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
      if (p.exitValue() == 0) {
        finished++;
      }
      try (LocalChunkStore store = new LocalChunkStore(data)) {
        DatasetManifest m = store.resolve("big");
        assertThat(m.numSamples()).as("attempt " + attempt).isIn((long) oldN, (long) newN);
      }
    }
    long expected;
    try (LocalChunkStore store = new LocalChunkStore(data)) {
      expected = store.resolve("big").numSamples();
    }
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m");
        TrainFeedClient c = TrainFeedClient.builder().target(s.target()).build()) {
      long seen = 0;
      try (BatchIterator it = c.batches("big").batchSize(1000).open()) {
        while (it.hasNext()) {
          Batch b = it.next();
          TestData.assertBytes(b);
          seen += b.sampleIds().length;
        }
      }
      assertThat(seen).isEqualTo(expected);
      assertThat(finished).as("kills that came after the ingest finished").isLessThan(4);
    }
  }

  /** Waits until an ingest has its temporary directory under {@code DATA_DIR/tmp}. */
  private static void awaitIngestWriting(Path data, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && p.isAlive()) {
      if (Files.isDirectory(data.resolve("tmp"))) {
        try (Stream<Path> tmp = Files.list(data.resolve("tmp"))) {
          if (tmp.anyMatch(d -> d.getFileName().toString().startsWith("ingest-")
              && Files.isDirectory(d))) {
            return;
          }
        }
      }
      Thread.sleep(1);
    }
    throw new AssertionError("the ingest never started writing (alive: " + p.isAlive() + ")");
  }

  private interface Damage {
    void apply(Path file, long size) throws Exception;
  }

  private static void damage(Path cacheDir, Damage d) throws Exception {
    try (Stream<Path> files = Files.list(cacheDir)) {
      for (Path f : files.filter(p -> !p.toString().endsWith(".lock")).toList()) {
        d.apply(f, Files.size(f));
      }
    }
  }

  /** Starts a server on {@code data}, reads every sample twice (cold, then cached), stops it. */
  private static void readAll(Path data) throws Exception {
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m");
        TrainFeedClient c = TrainFeedClient.builder().target(s.target()).build()) {
      for (int pass = 0; pass < 2; pass++) {
        long seen = 0;
        try (BatchIterator it = c.batches("ids").batchSize(50).shuffle(pass).open()) {
          while (it.hasNext()) {
            Batch b = it.next();
            TestData.assertBytes(b);
            seen += b.sampleIds().length;
          }
        }
        assertThat(seen).isEqualTo(c.dataset("ids").numSamples());
      }
      assertThat(s.log()).doesNotContain("LEAK:");
    }
  }

  private static void flipByte(Path file, long at) throws Exception {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xff);
    }
  }

  /** {@code java -cp <test classpath> dev.trainfeed.server.cli.Main ARGS} as a child process. */
  static Process javaMain(String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String flag : System.getProperty("trainfeed.jvm.flags", "").split("\\s+")) {
      if (!flag.isBlank()) {
        cmd.add(flag);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.trainfeed.server.cli.Main");
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }
}
