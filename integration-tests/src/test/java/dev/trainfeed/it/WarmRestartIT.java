package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Chronicle Map cache file across restarts of a real server: after SIGTERM the next process
 * serves hits from its first epoch; after SIGKILL mid-stream, or with the file damaged or
 * truncated between runs, the server starts, rebuilds the cache and serves only correct bytes.
 */
class WarmRestartIT {
  /** 24 bytes a sample: about 1.4 MB in 22 chunks of 64 KiB; the 1 MiB cache holds ~70%. */
  private static final int N = 60_000;
  @TempDir Path tmp;

  private static final String[] FLAGS = {"--cache-size", "1m"};

  /** Streams one shuffled epoch, checking every byte; returns the store bytes it cost. */
  private static double epoch(ServerProcess server, long epoch, double[] hits) throws Exception {
    ScrapedMetrics before = ScrapedMetrics.scrape(server.metricsPort());
    int samples = 0;
    try (TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build();
        BatchIterator it = client.batches("ids").batchSize(2000).shuffle(5).epoch(epoch)
            .epochs(1).open()) {
      while (it.hasNext()) {
        Batch b = it.next();
        TestData.assertBytes(b);
        samples += b.sampleIds().length;
      }
    }
    assertThat(samples).isEqualTo(N);
    ScrapedMetrics after = ScrapedMetrics.scrape(server.metricsPort());
    hits[0] = after.get("trainfeed_cache_hits_total") - before.get("trainfeed_cache_hits_total");
    return after.get("trainfeed_store_read_bytes_total")
        - before.get("trainfeed_store_read_bytes_total");
  }

  private static Path cacheFile(Path data) {
    return data.resolve("cache").resolve("chunks.cmap");
  }

  @Test
  void cleanRestartStartsWarm() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "64k");
    double[] hits = new double[1];
    double cold;
    try (ServerProcess first = ServerProcess.start(data, 0, FLAGS)) {
      cold = epoch(first, 0, hits);
      assertThat(hits[0]).isZero();
      first.terminate();
    }
    try (ServerProcess second = ServerProcess.start(data, 0, FLAGS)) {
      assertThat(second.log()).contains("warm");
      double read = epoch(second, 1, hits);
      assertThat(hits[0]).as("hits in the first epoch after the restart").isPositive();
      // About 70% is cached: the epoch reads well under half of what a cold one did.
      assertThat(read).isLessThan(0.5 * cold);
    }
  }

  @Test
  void afterKillNineTheCacheIsRebuiltAndServesCorrectBytes() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "64k");
    ServerProcess first = ServerProcess.start(data, 0, FLAGS);
    try (TrainFeedClient client = TrainFeedClient.builder().target(first.target()).build();
        BatchIterator it = client.batches("ids").batchSize(500).shuffle(5).open()) {
      for (int i = 0; i < 20; i++) {
        TestData.assertBytes(it.next());
      }
      first.kill(); // while chunks are being admitted to the cache
    } catch (RuntimeException expected) {
      // The iterator may notice the dead server while closing.
    } finally {
      first.close();
    }
    try (ServerProcess second = ServerProcess.start(data, 0, FLAGS)) {
      assertThat(second.log()).contains("Recreating chunk cache file");
      epoch(second, 0, new double[1]);
      epoch(second, 1, new double[1]);
    }
  }

  @Test
  void damagedOrTruncatedCacheFileIsNeverServed() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "64k");
    double[] hits = new double[1];
    try (ServerProcess first = ServerProcess.start(data, 0, FLAGS)) {
      epoch(first, 0, hits);
      first.terminate();
    }
    // Garbage over the middle of the file, length unchanged: Chronicle's segment headers as well
    // as pages are hit, and the map must never be opened over it.
    long length = Files.size(cacheFile(data));
    try (RandomAccessFile f = new RandomAccessFile(cacheFile(data).toFile(), "rw")) {
      byte[] junk = new byte[(int) Math.min(length / 2, 4 << 20)];
      java.util.Arrays.fill(junk, (byte) 0x5a);
      f.seek(length / 4);
      f.write(junk);
    }
    try (ServerProcess second = ServerProcess.start(data, 0, FLAGS)) {
      assertThat(second.log()).contains("Recreating chunk cache file");
      epoch(second, 1, hits);
      epoch(second, 2, hits);
      second.terminate();
    }
    try (RandomAccessFile f = new RandomAccessFile(cacheFile(data).toFile(), "rw")) {
      f.setLength(f.length() / 3);
    }
    try (ServerProcess third = ServerProcess.start(data, 0, FLAGS)) {
      assertThat(third.log()).contains("Recreating chunk cache file");
      epoch(third, 3, hits);
    }
  }
}
