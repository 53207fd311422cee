package dev.trainfeed.demo;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.DatasetInfo;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.server.TrainFeedServer;
import dev.trainfeed.server.cli.Main;
import dev.trainfeed.server.config.ServerOptions;
import io.micrometer.core.instrument.Counter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainfeed demo}: ingests the bundled digits, starts a local server, and trains a softmax
 * regression over several epochs with data-parallel ranks, checking that every sample arrives
 * exactly once per epoch.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Ingest the bundled digits, serve them, and train on them over gRPC.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--data-dir", paramLabel = "DIR",
      description = "Data directory (default: .trainfeed/demo in the repository).")
  Path dataDir;

  @Option(names = "--epochs", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--world-size", defaultValue = "2",
      description = "Data-parallel ranks (default: ${DEFAULT-VALUE}).")
  int worldSize;

  @Option(names = "--batch-size", defaultValue = "32",
      description = "Samples per batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--seed", defaultValue = "7", description = "Shuffle seed (default: ${DEFAULT-VALUE}).")
  long seed;

  /** The classifier the demo trains; the synthesis step keeps training it. */
  private SoftmaxRegression model;

  @Override
  public Integer call() throws Exception {
    Path home = Path.of(System.getProperty("trainfeed.home", ".")).toAbsolutePath();
    Path data = dataDir != null ? dataDir : home.resolve(".trainfeed").resolve("demo");
    Path digits = home.resolve("data").resolve("digits");
    if (!Files.isRegularFile(digits.resolve("image.npy"))) {
      throw new IllegalStateException("bundled data not found at " + digits
          + "; run the demo from the repository (./trainfeed demo)");
    }
    System.out.println("== 1. ingest the bundled 8x8 digits (" + digits + ")");
    int rc = Main.run(new String[] {"ingest", "--data-dir", data.toString(), "--name", "digits",
        "--npy", digits.toString(), "--chunk-size", "4k"}, System.getenv());
    if (rc != 0) {
      return rc;
    }
    System.out.println("== 2. start a server on a free port");
    ServerOptions options = new ServerOptions(data, "127.0.0.1", 0, 0, 64L << 20,
        data.resolve("cache").resolve("chunks.cmap"), data.resolve("resume.key"), 64L << 20, 64,
        2, 4, Duration.ofSeconds(5), true, 4 << 20);
    try (TrainFeedServer server = TrainFeedServer.start(options);
        TrainFeedClient client = TrainFeedClient.builder()
            .target("127.0.0.1:" + server.port()).build()) {
      DatasetInfo info = client.dataset("digits");
      System.out.printf(Locale.ROOT, "   %s: %d samples in %d chunks, fields %s; metrics at "
          + "http://127.0.0.1:%d/metrics%n", info.name() + "@" + info.version(), info.numSamples(),
          info.numChunks(), info.fields(), server.metricsPort());
      boolean ok = train(client, info);
      printCache(server);
      ok &= SynthesisDemo.run(client, Math.toIntExact(info.numSamples()), batchSize, seed, model);
      ok &= CacheDemo.run(client, data);
      System.out.println(ok ? "demo: OK" : "demo: FAILED");
      return ok ? 0 : 1;
    }
  }

  private boolean train(TrainFeedClient client, DatasetInfo info) {
    System.out.printf(Locale.ROOT, "== 3. train softmax regression: %d epochs x %d ranks, batch %d,"
        + " shuffled (seed %d)%n", epochs, worldSize, batchSize, seed);
    int n = Math.toIntExact(info.numSamples());
    model = new SoftmaxRegression(64, 10, 0.5);
    boolean ok = true;
    long samples = 0;
    long bytes = 0;
    long start = System.nanoTime();
    for (int epoch = 0; epoch < epochs; epoch++) {
      int[] seen = new int[n];
      double lossSum = 0;
      int steps = 0;
      int correct = 0;
      int counted = 0;
      List<BatchIterator> ranks = new ArrayList<>();
      try {
        for (int r = 0; r < worldSize; r++) {
          ranks.add(client.batches("digits").batchSize(batchSize).shuffle(seed).epoch(epoch)
              .shard(r, worldSize).fields("image", "label").open());
        }
        // Ranks step in lockstep; the contract gives every rank the same number of batches.
        while (ranks.get(0).hasNext()) {
          double[][] grads = new double[worldSize][];
          for (int r = 0; r < worldSize; r++) {
            Batch b = ranks.get(r).next();
            float[] x = b.tensor("image").toFloatArray(1f / 16f);
            long[] y = b.tensor("label").toLongArray();
            double[] loss = new double[1];
            grads[r] = model.gradient(x, y, loss);
            lossSum += loss[0];
            steps++;
            for (int i = 0; i < b.size(); i++) {
              if (!b.isPadding(i)) {
                seen[(int) b.sampleIds()[i]]++;
              }
              correct += model.predict(x, i) == y[i] ? 1 : 0;
              counted++;
            }
            samples += b.size();
            for (var t : b.tensors()) {
              bytes += t.asByteBuffer().remaining();
            }
          }
          model.step(grads);
        }
        for (int r = 1; r < worldSize; r++) {
          if (ranks.get(r).hasNext()) {
            System.out.println("   rank " + r + " has more batches than rank 0");
            ok = false;
          }
        }
      } finally {
        ranks.forEach(BatchIterator::close);
      }
      int missing = 0;
      int repeated = 0;
      for (int c : seen) {
        missing += c == 0 ? 1 : 0;
        repeated += c > 1 ? 1 : 0;
      }
      ok &= missing == 0 && repeated == 0;
      System.out.printf(Locale.ROOT, "   epoch %d: mean loss %.4f, train accuracy %.1f%%, "
          + "%d samples each exactly once: %s%n", epoch, lossSum / steps, 100.0 * correct / counted,
          n, missing == 0 && repeated == 0 ? "yes" : "NO (" + missing + " missing, " + repeated
              + " repeated)");
    }
    double secs = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "   throughput: %.0f samples/s, %.2f MB/s of payload over gRPC "
        + "(training included)%n", samples / secs, bytes / secs / 1e6);
    return ok;
  }

  private static void printCache(TrainFeedServer server) {
    double hits = counter(server, "trainfeed.cache.hits");
    double misses = counter(server, "trainfeed.cache.misses");
    double read = counter(server, "trainfeed.store.read.bytes");
    System.out.printf(Locale.ROOT, "== 4. server: cache hits %.0f, misses %.0f (hit ratio %.2f), "
        + "%.0f bytes read from the store%n", hits, misses,
        hits + misses == 0 ? 0 : hits / (hits + misses), read);
  }

  private static double counter(TrainFeedServer server, String name) {
    Counter c = server.registry().find(name).counter();
    return c == null ? 0 : c.count();
  }
}
