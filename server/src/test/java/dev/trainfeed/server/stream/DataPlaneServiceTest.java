package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import dev.trainfeed.proto.v1.HorizontalFlip;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.SynthesizeRequest;
import dev.trainfeed.proto.v1.Tensor;
import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The stream service over an in-process transport, on a synthetic store of many chunks. */
class DataPlaneServiceTest {
  private static final int N = 203;
  private SyntheticStore store;
  private ExecutorService pool;
  private InProcessDataPlane plane;
  private ManagedChannel channel;
  private DataPlaneGrpc.DataPlaneBlockingStub stub;
  private ServerMetrics metrics;
  private DataPlaneService service;
  private final AtomicInteger opened = new AtomicInteger();
  private final AtomicInteger closed = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    store = new SyntheticStore("toy", N, 7);
    pool = Executors.newFixedThreadPool(4);
    metrics = new ServerMetrics(new SimpleMeterRegistry());
    ChunkSource source = (dataset, sequence) -> {
      opened.incrementAndGet();
      return new ChunkSource.Reader() {
        @Override
        public ChunkBytes chunk(int chunk) throws java.io.IOException {
          return ChunkBytes.of(store.readChunk(dataset, chunk));
        }

        @Override
        public void close() {
          closed.incrementAndGet();
        }
      };
    };
    ResumeTokenCodec tokens = new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32])));
    service = new DataPlaneService(store, source, tokens, metrics, pool,
        new StreamLimits(1000, 4, 1 << 20));
    plane = InProcessDataPlane.serve(service);
    channel = plane.channel;
    stub = plane.stub;
  }

  @AfterEach
  void stop() throws Exception {
    plane.close();
    pool.shutdownNow();
  }

  private static StreamBatchesRequest.Builder req() {
    return StreamBatchesRequest.newBuilder().setDataset("toy").setBatchSize(10).setShuffle(true)
        .setSeed(3).setShuffleWindow(4);
  }

  private List<Batch> all(StreamBatchesRequest r) {
    List<Batch> out = new ArrayList<>();
    stub.streamBatches(r).forEachRemaining(out::add);
    return out;
  }

  static void checkBytes(Batch b) {
    Tensor id = b.getTensors(0);
    Tensor rgb = b.getTensors(1);
    assertThat(id.getShapeList()).containsExactly((long) b.getSampleIdsCount());
    assertThat(rgb.getShapeList()).containsExactly((long) b.getSampleIdsCount(), 3L);
    ByteBuffer ids = id.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < b.getSampleIdsCount(); i++) {
      long s = b.getSampleIds(i);
      assertThat(ids.getLong()).isEqualTo(s);
      for (int k = 0; k < 3; k++) {
        assertThat(rgb.getData().byteAt(i * 3 + k)).isEqualTo((byte) (s * 3 + k));
      }
    }
  }

  @Test
  void everyRankGetsItsShareExactlyOnceWithEqualBatchCounts() {
    for (int w = 1; w <= 5; w++) {
      int[] seen = new int[N];
      int batches = -1;
      int padding = 0;
      for (int r = 0; r < w; r++) {
        List<Batch> got = all(req().setRank(r).setWorldSize(w).build());
        if (batches < 0) {
          batches = got.size();
        }
        assertThat(got).hasSize(batches);
        for (int i = 0; i < got.size(); i++) {
          Batch b = got.get(i);
          assertThat(b.getIndex()).isEqualTo(i);
          checkBytes(b);
          for (int k = 0; k < b.getSampleIdsCount(); k++) {
            if (b.getPaddingCount() > 0 && b.getPadding(k)) {
              padding++;
            } else {
              seen[(int) b.getSampleIds(k)]++;
            }
          }
        }
      }
      int perRank = (N + w - 1) / w;
      assertThat(padding).isEqualTo(perRank * w - N);
      assertThat(seen).as("world size %d", w).containsOnly(1);
    }
  }

  @Test
  void unshuffledIsStoredOrderAndShuffleDependsOnSeedAndEpoch() {
    List<Long> plain = new ArrayList<>();
    all(req().setShuffle(false).build()).forEach(b -> plain.addAll(b.getSampleIdsList()));
    assertThat(plain).isSorted().hasSize(N);
    List<Long> a = ids(all(req().build()));
    assertThat(ids(all(req().build()))).isEqualTo(a);
    assertThat(ids(all(req().setBatchSize(17).build()))).isEqualTo(a);
    assertThat(ids(all(req().setEpoch(1).build()))).isNotEqualTo(a);
    assertThat(ids(all(req().setSeed(4).build()))).isNotEqualTo(a);
  }

  private static List<Long> ids(List<Batch> batches) {
    List<Long> out = new ArrayList<>();
    batches.forEach(b -> out.addAll(b.getSampleIdsList()));
    return out;
  }

  @Test
  void dropLastSendsOnlyFullBatches() {
    List<Batch> got = all(req().setWorldSize(3).setRank(2).setDropLast(true).build());
    assertThat(got).hasSize((N / 3) / 10).allMatch(b -> b.getSampleIdsCount() == 10
        && b.getPaddingCount() == 0);
  }

  @Test
  void resumeContinuesWithTheNextBatchAndTheLastTokenEndsEmpty() {
    List<Batch> full = all(req().setWorldSize(2).setRank(1).build());
    for (int cut : new int[] {0, 3, full.size() - 1}) {
      List<Batch> rest = all(req().setWorldSize(2).setRank(1)
          .setResumeToken(full.get(cut).getResumeToken()).build());
      assertThat(rest).hasSize(full.size() - cut - 1);
      for (int i = 0; i < rest.size(); i++) {
        assertThat(rest.get(i).getSampleIdsList())
            .isEqualTo(full.get(cut + 1 + i).getSampleIdsList());
        assertThat(rest.get(i).getIndex()).isEqualTo(cut + 1 + i);
      }
    }
    // Only `fields` may differ on resume.
    List<Batch> idsOnly = all(req().setWorldSize(2).setRank(1).addFields("rgb")
        .setResumeToken(full.get(2).getResumeToken()).build());
    assertThat(idsOnly.get(0).getTensorsList()).extracting(Tensor::getName).containsExactly("rgb");
  }

  @Test
  void mismatchedTokenNamesTheField() {
    ByteString token = all(req().build()).get(1).getResumeToken();
    assertStatus(req().setSeed(9).setResumeToken(token).build(), Status.Code.FAILED_PRECONDITION,
        "seed");
    assertStatus(req().setBatchSize(11).setResumeToken(token).build(),
        Status.Code.FAILED_PRECONDITION, "batch_size");
    assertStatus(req().setEpoch(1).setResumeToken(token).build(), Status.Code.FAILED_PRECONDITION,
        "epoch");
    byte[] forged = token.toByteArray();
    forged[forged.length / 2] ^= 1;
    assertStatus(req().setResumeToken(ByteString.copyFrom(forged)).build(),
        Status.Code.INVALID_ARGUMENT, "resume_token");
    assertStatus(req().setResumeToken(ByteString.copyFromUtf8("garbage")).build(),
        Status.Code.INVALID_ARGUMENT, "resume_token");
  }

  @Test
  void badRequestsGetTheContractsStatusCodes() {
    assertStatus(req().setBatchSize(0).build(), Status.Code.INVALID_ARGUMENT, "batch_size");
    assertStatus(req().setRank(2).setWorldSize(2).build(), Status.Code.INVALID_ARGUMENT, "rank");
    assertStatus(req().setRank(1).build(), Status.Code.INVALID_ARGUMENT, "world_size");
    assertStatus(req().addFields("nope").build(), Status.Code.INVALID_ARGUMENT, "unknown field");
    assertStatus(req().setDataset("../etc").build(), Status.Code.INVALID_ARGUMENT, "invalid");
    assertStatus(req().setDataset("").build(), Status.Code.INVALID_ARGUMENT, "dataset");
    assertStatus(req().setDataset("missing").build(), Status.Code.NOT_FOUND, "missing");
    assertStatus(req().setBatchSize(200).build(), Status.Code.RESOURCE_EXHAUSTED,
        "--max-batch-bytes");
    // A batch never exceeds the rank's share, so a huge batch_size on a small shard is fine.
    assertThat(all(req().setBatchSize(200_000).setWorldSize(4).build())).hasSize(1);
    assertStatus(req().setAugment(AugmentSpec.newBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(0.5))).build(),
        Status.Code.INVALID_ARGUMENT, "augment");
    assertThatThrownBy(() -> stub.getDataset(GetDatasetRequest.newBuilder().setName("x@zz")
        .build())).hasMessageContaining("INVALID_ARGUMENT");
    assertThatThrownBy(() -> stub.synthesize(SynthesizeRequest.newBuilder().setModel("gan")
        .setCount(0).setBatchSize(1).build()).next()).hasMessageContaining("INVALID_ARGUMENT");
  }

  private void assertStatus(StreamBatchesRequest r, Status.Code code, String text) {
    assertThatThrownBy(() -> all(r))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(code);
          assertThat(e.getStatus().getDescription()).contains(text);
        });
  }

  @Test
  void corruptChunkEndsTheStreamWithDataLoss() {
    store.corrupt.add(5);
    assertStatus(req().setShuffle(false).build(), Status.Code.DATA_LOSS, "chunk 5");
    assertThat(all(req().setShuffle(false).setBatchSize(7).build().toBuilder().setRank(0)
        .setWorldSize(40).build())).isNotEmpty();
  }

  @Test
  void listsAndDescribesDatasets() {
    var list = stub.listDatasets(ListDatasetsRequest.getDefaultInstance());
    assertThat(list.getDatasetsList()).hasSize(1);
    var info = stub.getDataset(GetDatasetRequest.newBuilder().setName("toy").build());
    assertThat(info.getNumSamples()).isEqualTo(N);
    assertThat(info.getNumChunks()).isEqualTo(29);
    assertThat(info.getFieldsList()).extracting(f -> f.getName()).containsExactly("id", "rgb");
  }

  @Test
  void slowReaderIsFlowControlledAndCancelFreesTheStream() throws Exception {
    // A reader that asks for one batch and then stops: the server must not run ahead unboundedly.
    CountDownLatch first = new CountDownLatch(1);
    AtomicInteger received = new AtomicInteger();
    ClientCallStreamObserver<?>[] call = new ClientCallStreamObserver<?>[1];
    DataPlaneGrpc.newStub(channel).streamBatches(req().setBatchSize(1).setShuffle(false).build(),
        new ClientResponseObserver<StreamBatchesRequest, Batch>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StreamBatchesRequest> s) {
            call[0] = s;
            s.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(Batch value) {
            received.incrementAndGet();
            first.countDown();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(300);
    assertThat(received.get()).isEqualTo(1);
    assertThat(metrics.activeStreams()).isEqualTo(1);
    call[0].cancel("test done", null);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while ((metrics.activeStreams() > 0 || service.activeStreams() > 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(metrics.activeStreams()).isZero();
    assertThat(service.activeStreams()).isZero();
  }

  @Test
  void aStreamIsUncountedOnceItsClientSeesItEnd() {
    // Completed and failed alike: the next stream of a client at the limit must not be refused.
    store.corrupt.add(5);
    for (int i = 0; i < 10; i++) {
      assertThat(all(req().setShuffle(false).setWorldSize(40).setRank(0).build())).isNotEmpty();
      assertThat(service.activeStreams()).isZero();
      assertThat(metrics.activeStreams()).isZero();
      assertStatus(req().setShuffle(false).build(), Status.Code.DATA_LOSS, "chunk 5");
      assertThat(service.activeStreams()).isZero();
      assertThat(metrics.activeStreams()).isZero();
    }
  }

  @Test
  void streamLimitIsEnforced() {
    List<Iterator<Batch>> open = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Iterator<Batch> it = DataPlaneGrpc.newBlockingStub(channel)
          .streamBatches(req().setBatchSize(1).setShuffle(false).build());
      it.next();
      open.add(it);
    }
    assertStatus(req().build(), Status.Code.RESOURCE_EXHAUSTED, "--max-streams");
    assertThat(Arrays.asList(open.size())).containsExactly(4);
  }

  @Test
  void drainingRefusesNewStreamsWithUnavailable() {
    service.startDraining();
    assertStatus(req().build(), Status.Code.UNAVAILABLE, "shutting down");
  }

  @Test
  void aStreamAdmittedBeforeDrainingButStartedAfterTheAbortEndsToo() throws Exception {
    // The interleaving: admit() saw draining false, then close() drained and aborted every stream
    // in the set, then the new stream joined it. Without the abort flag it would run on, holding
    // its chunks, until gRPC cancelled it.
    service.abortStreams();
    assertStatus(req().build(), Status.Code.UNAVAILABLE, "resume_token");
    assertThat(service.activeStreams()).isZero();
    // Its reader was opened and let go (closing it is idempotent: the end of the look-ahead and
    // the release each close it).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (closed.get() < opened.get() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(opened.get()).isPositive();
    assertThat(closed.get()).isGreaterThanOrEqualTo(opened.get());
  }
}
