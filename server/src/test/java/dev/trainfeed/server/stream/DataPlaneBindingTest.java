package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The zero-copy binding streams the same messages, byte for byte, as the generated binding of the
 * same service, and leaves the other methods as they were.
 */
class DataPlaneBindingTest {
  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private ExecutorService pool;
  private DataPlaneService service;

  @BeforeEach
  void start() {
    SyntheticStore store = new SyntheticStore("toy", 203, 7);
    pool = Executors.newFixedThreadPool(2);
    ChunkSource source = store.directSource();
    service = new DataPlaneService(store, source,
        new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32]))),
        new ServerMetrics(new SimpleMeterRegistry()), pool, new StreamLimits(1 << 20, 4, 1 << 20));
  }

  private DataPlaneGrpc.DataPlaneBlockingStub serve(io.grpc.BindableService generated,
      io.grpc.ServerServiceDefinition custom) throws Exception {
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name);
    Server s = (generated != null ? b.addService(generated) : b.addService(custom)).build().start();
    servers.add(s);
    ManagedChannel c = InProcessChannelBuilder.forName(name).build();
    channels.add(c);
    return DataPlaneGrpc.newBlockingStub(c);
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    for (Server s : servers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    pool.shutdownNow();
  }

  @Test
  void streamsTheGeneratedEncodingOfEveryBatch() throws Exception {
    DataPlaneGrpc.DataPlaneBlockingStub generated = serve(service, null);
    DataPlaneGrpc.DataPlaneBlockingStub zeroCopy = serve(null, DataPlaneBinding.bind(service));
    // Rank 2 of 3 over 203 samples ends with a padding repeat; a shuffle gathers many chunks.
    StreamBatchesRequest r = StreamBatchesRequest.newBuilder().setDataset("toy").setBatchSize(16)
        .setShuffle(true).setSeed(5).setShuffleWindow(4).setRank(2).setWorldSize(3).setEpoch(1)
        .build();
    List<Batch> expected = new ArrayList<>();
    generated.streamBatches(r).forEachRemaining(expected::add);
    List<Batch> actual = new ArrayList<>();
    zeroCopy.streamBatches(r).forEachRemaining(actual::add);
    assertThat(actual).hasSize(expected.size()).hasSizeGreaterThan(3);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i).toByteArray()).isEqualTo(expected.get(i).toByteArray());
    }
    assertThat(actual.get(actual.size() - 1).getPaddingList()).contains(true);
    assertThat(zeroCopy.listDatasets(ListDatasetsRequest.getDefaultInstance()).getDatasetsCount())
        .isEqualTo(1);
  }
}
