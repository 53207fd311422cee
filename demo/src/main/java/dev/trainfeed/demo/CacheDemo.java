package dev.trainfeed.demo;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.DatasetInfo;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.server.TrainFeedServer;
import dev.trainfeed.server.config.ServerOptions;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetWriter;
import dev.trainfeed.server.store.FieldSpec;
import dev.trainfeed.server.store.WriterOptions;
import dev.trainfeed.server.synth.SynthOptions;
import io.micrometer.core.instrument.Counter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The cache step of the demo: a dataset four times larger than its cache, read over shuffled
 * epochs, with the hit ratio printed beside its ceiling (the cached fraction C/N) and the storage
 * bytes beside their floor ((1 − C/N) × dataset bytes).
 */
final class CacheDemo {
  private static final int COPIES = 32;
  private static final long CACHE_BYTES = 1L << 20;

  private CacheDemo() {}

  /** Builds {@code digits-x32} from the served digits and streams it through a 1 MiB cache. */
  static boolean run(TrainFeedClient client, Path data) throws Exception {
    System.out.println("== 7. a dataset larger than its cache: digits x" + COPIES
        + " through a 1 MiB cache, 3 shuffled epochs");
    List<byte[]> images = new ArrayList<>();
    List<Long> labels = new ArrayList<>();
    try (BatchIterator it = client.batches("digits").batchSize(512).open()) {
      while (it.hasNext()) {
        Batch b = it.next();
        byte[] img = b.tensor("image").toByteArray();
        long[] lab = b.tensor("label").toLongArray();
        for (int i = 0; i < b.size(); i++) {
          byte[] one = new byte[64];
          System.arraycopy(img, i * 64, one, 0, 64);
          images.add(one);
          labels.add(lab[i]);
        }
      }
    }
    try (DatasetWriter w = DatasetWriter.create(data, "digits-x" + COPIES,
        List.of(new FieldSpec("image", DType.UINT8, 8, 8), new FieldSpec("label", DType.INT64)),
        WriterOptions.builder().chunkSizeBytes(48 << 10).build())) {
      for (int copy = 0; copy < COPIES; copy++) {
        for (int i = 0; i < images.size(); i++) {
          w.append(images.get(i), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
              .putLong(labels.get(i)).array());
        }
      }
      w.commit();
    }
    ServerOptions options = new ServerOptions(data, "127.0.0.1", 0, -1, CACHE_BYTES,
        data.resolve("cache").resolve("small.cmap"), data.resolve("resume.key"), 64L << 20, 16,
        2, 4, Duration.ofSeconds(5), true, 4 << 20);
    // This server only streams a dataset: no models.
    try (TrainFeedServer server = TrainFeedServer.start(options,
        SynthOptions.defaults().withModelsDir(null));
        TrainFeedClient small = TrainFeedClient.builder()
            .target("127.0.0.1:" + server.port()).build()) {
      DatasetInfo info = small.dataset("digits-x" + COPIES);
      double ceiling = Math.min(1.0, (double) CACHE_BYTES / info.sizeBytes());
      double hits0 = 0;
      double misses0 = 0;
      double read0 = 0;
      for (int epoch = 0; epoch < 3; epoch++) {
        if (epoch == 1) {
          hits0 = count(server, "trainfeed.cache.hits");
          misses0 = count(server, "trainfeed.cache.misses");
          read0 = count(server, "trainfeed.store.read.bytes");
        }
        try (BatchIterator it = small.batches(info.name()).batchSize(1024).shuffle(3)
            .epoch(epoch).open()) {
          it.forEachRemaining(b -> { });
        }
      }
      double hits = count(server, "trainfeed.cache.hits") - hits0;
      double misses = count(server, "trainfeed.cache.misses") - misses0;
      double readPerEpoch = (count(server, "trainfeed.store.read.bytes") - read0) / 2;
      double ratio = hits + misses == 0 ? 0 : hits / (hits + misses);
      double floor = (1 - ceiling) * info.storedBytes();
      System.out.printf(Locale.ROOT, "   %d samples in %d chunks, %.1f MiB; cache 1 MiB: "
          + "ceiling C/N = %.3f%n", info.numSamples(), info.numChunks(),
          info.sizeBytes() / 1048576.0, ceiling);
      System.out.printf(Locale.ROOT, "   epochs 2-3: hit ratio %.3f (ceiling %.3f, LRU would "
          + "be near 0); storage read %.2f MiB/epoch (floor %.2f MiB)%n", ratio, ceiling,
          readPerEpoch / 1048576.0, floor / 1048576.0);
      // A real policy check, loosely: the simulation in benchmarks/ measures it tightly.
      return ratio >= 0.8 * ceiling;
    }
  }

  private static double count(TrainFeedServer server, String name) {
    Counter c = server.registry().find(name).counter();
    return c == null ? 0 : c.count();
  }
}
