package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real server with a cache of about 30% of a dataset of 53 chunks streams three shuffled
 * epochs: from the second epoch on, the hit ratio reaches the cached fraction and storage reads
 * fall to the rest, as the server's own /metrics report them. (Loose bounds here; the tight
 * figures come from {@code benchmarks/}'s PolicySimulation.)
 */
class CachePolicyIT {
  /** 24 bytes a sample: about 3.5 MB in chunks of 64 KiB, one cache page each. */
  private static final int N = 145_000;
  private static final long CACHE = 1L << 20;
  @TempDir Path tmp;

  @Test
  void shuffledEpochsReachTheHitCeilingAndTheStorageFloor() throws Exception {
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "64k");
    try (ServerProcess server = ServerProcess.start(data, 0, "--cache-size", "1m",
            "--prefetch-bytes", "256k");
        TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build()) {
      long size = client.dataset("ids").sizeBytes();
      assertThat(client.dataset("ids").numChunks()).isGreaterThan(40);
      double fraction = CACHE / (double) size;
      double floor = (1 - fraction) * size;
      ScrapedMetrics before = ScrapedMetrics.scrape(server.metricsPort());
      for (int epoch = 0; epoch < 3; epoch++) {
        int samples = 0;
        try (BatchIterator it = client.batches("ids").batchSize(1000).shuffle(11).epoch(epoch)
            .epochs(1).open()) {
          while (it.hasNext()) {
            Batch b = it.next();
            if (samples == 0) {
              TestData.assertBytes(b);
            }
            samples += b.sampleIds().length;
          }
        }
        assertThat(samples).isEqualTo(N);
        ScrapedMetrics after = ScrapedMetrics.scrape(server.metricsPort());
        double hits = after.get("trainfeed_cache_hits_total")
            - before.get("trainfeed_cache_hits_total");
        double misses = after.get("trainfeed_cache_misses_total")
            - before.get("trainfeed_cache_misses_total");
        double read = after.get("trainfeed_store_read_bytes_total")
            - before.get("trainfeed_store_read_bytes_total");
        if (epoch == 0) {
          assertThat(hits).as("cold epoch").isZero();
          assertThat(read).as("cold epoch reads the dataset once").isEqualTo(size);
        } else {
          assertThat(hits / (hits + misses)).as("hit ratio of epoch %d vs C/N %.3f", epoch,
              fraction).isGreaterThanOrEqualTo(0.9 * fraction);
          assertThat(read).as("storage bytes of epoch %d vs floor %.0f", epoch, floor)
              .isLessThanOrEqualTo(1.1 * floor);
        }
        before = after;
      }
      ScrapedMetrics m = before;
      assertThat(m.get("trainfeed_cache_capacity_bytes")).isEqualTo(CACHE);
      assertThat(m.get("trainfeed_cache_size_bytes")).isPositive()
          .isLessThanOrEqualTo(CACHE);
      assertThat(m.get("trainfeed_chunk_load_seconds_count"))
          .isEqualTo(m.get("trainfeed_cache_misses_total"));
      assertThat(m.has("trainfeed_chunk_load_seconds_bucket")).isTrue();
      assertThat(m.has("trainfeed_cache_evictions_total")).isTrue();
      assertThat(m.has("trainfeed_stream_stall_seconds_total")).isTrue();
    }
  }

  @Test
  void fourJobsOnTheSameOrderReadAboutWhatOneJobReads() throws Exception {
    // Jobs started together on the same dataset, seed and epoch: each chunk one reads from
    // storage is shared with the others (borrowed or adopted), and the cache keeps its 30%.
    // 48 MB in 2 MiB chunks: the server sends up to ~16 MiB ahead of a reader (on-ready
    // threshold plus flow-control window), so the jobs stay within a 32 MiB look-ahead of each
    // other only on a dataset several times that, as real ones are.
    int n = 2_000_000;
    long cache = 14L << 20;
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", n, "2m");
    int jobs = 4;
    ExecutorService pool = Executors.newFixedThreadPool(jobs);
    try (ServerProcess server = ServerProcess.start(data, 0, "--cache-size", "14m",
            "--prefetch-bytes", "32m");
        TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build()) {
      long size = client.dataset("ids").sizeBytes();
      double floor = (1 - cache / (double) size) * size;
      ScrapedMetrics before = ScrapedMetrics.scrape(server.metricsPort());
      for (int epoch = 0; epoch < 3; epoch++) {
        int e = epoch;
        CyclicBarrier start = new CyclicBarrier(jobs);
        List<Future<Integer>> running = new ArrayList<>();
        for (int j = 0; j < jobs; j++) {
          running.add(pool.submit(() -> {
            int samples = 0;
            start.await();
            try (BatchIterator it = client.batches("ids").batchSize(20_000).shuffle(11).epoch(e)
                .epochs(1).open()) {
              while (it.hasNext()) {
                Batch b = it.next();
                TestData.assertBytes(b);
                samples += b.sampleIds().length;
                // A training step: the epoch lasts long next to the jobs' start-up skew, as
                // real epochs do (a job a large part of an epoch behind reads on its own).
                Thread.sleep(6);
              }
            }
            return samples;
          }));
        }
        for (Future<Integer> f : running) {
          assertThat(f.get(120, TimeUnit.SECONDS)).isEqualTo(n);
        }
        ScrapedMetrics after = ScrapedMetrics.scrape(server.metricsPort());
        double read = after.get("trainfeed_store_read_bytes_total")
            - before.get("trainfeed_store_read_bytes_total");
        // What one job reads: the dataset in the cold epoch, the floor from then on.
        double oneJob = epoch == 0 ? size : floor;
        System.out.printf(Locale.ROOT, "four jobs, epoch %d: storage bytes %.0f = %.3f x one "
            + "job's%n", epoch, read, read / oneJob);
        before = after;
        assertThat(read).as("storage bytes of epoch %d vs one job's %.0f", epoch, oneJob)
            .isLessThanOrEqualTo(1.2 * oneJob);
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
