package dev.trainfeed.server;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.config.ServerOptions;
import dev.trainfeed.server.synth.Device;
import dev.trainfeed.server.synth.SynthOptions;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.DatasetWriter;
import dev.trainfeed.server.store.FieldSpec;
import dev.trainfeed.server.store.WriterOptions;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@link TrainFeedServer} on free ports over a dataset of many small chunks, with a
 * plaintext channel to it and a scrape of its {@code /metrics} endpoint.
 */
final class OpsFixture implements AutoCloseable {
  static final String DATASET = "ops";
  static final int SAMPLES = 12_000;

  final TrainFeedServer server;
  final ManagedChannel channel;

  private OpsFixture(TrainFeedServer server) {
    this.server = server;
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
        .flowControlWindow(64 << 10).build();
  }

  /** Writes the dataset into {@code dataDir} and starts a server over it. */
  static OpsFixture start(Path dataDir, boolean reflection) throws IOException {
    writeDataset(dataDir);
    Path data = dataDir.toAbsolutePath();
    return new OpsFixture(TrainFeedServer.start(new ServerOptions(data, "127.0.0.1", 0, 0,
        1L << 20, data.resolve("cache").resolve("chunks.cmap"), data.resolve("resume.key"),
        64L << 20, 16, 2, 4, Duration.ofMillis(200), reflection, 4 << 20,
        ServerOptions.DEFAULT_PREFETCH_BYTES, 0),
        // The bundled models, so that the synthesis meters exist as on a real deployment.
        new SynthOptions(Path.of("..", "models").toAbsolutePath().normalize(), Device.CPU,
            SynthOptions.DEFAULT_RUN_SIZE, SynthOptions.DEFAULT_BATCH_DELAY, 1,
            Duration.ofSeconds(2))));
  }

  /**
   * {@value #SAMPLES} samples of float32 [256] + int64 (about 12 MiB, twelve times the cache) in
   * chunks of about 64 KiB, so that a stream outlasts what the server may buffer ahead (8 MiB)
   * plus the client's flow-control window.
   */
  static void writeDataset(Path dataDir) throws IOException {
    List<FieldSpec> fields = List.of(new FieldSpec("x", DType.FLOAT32, 256),
        new FieldSpec("label", DType.INT64));
    try (DatasetWriter w = DatasetWriter.create(dataDir, DATASET, fields,
        WriterOptions.builder().chunkSizeBytes(64 << 10).build())) {
      for (int i = 0; i < SAMPLES; i++) {
        w.append(new byte[][] {new byte[1024], new byte[8]});
      }
      w.commit();
    }
  }

  /** One epoch's batches of size 64, as a lazily pulled stream. */
  Iterator<Batch> stream(int epoch) {
    return DataPlaneGrpc.newBlockingStub(channel).streamBatches(StreamBatchesRequest.newBuilder()
        .setDataset(DATASET).setBatchSize(64).setShuffle(true).setSeed(3).setEpoch(epoch)
        .build());
  }

  /** The Prometheus text the server's {@code /metrics} endpoint returns now. */
  String scrape() throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("/metrics answered " + r.statusCode());
    }
    return r.body();
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.close();
  }
}
