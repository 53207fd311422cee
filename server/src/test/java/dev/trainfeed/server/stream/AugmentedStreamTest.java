package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.AutoencoderAugment;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.Crop;
import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.GaussianNoise;
import dev.trainfeed.proto.v1.HorizontalFlip;
import dev.trainfeed.proto.v1.Normalize;
import dev.trainfeed.proto.v1.Rotation;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.Tensor;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** StreamBatches with an AugmentSpec, over an in-process transport and a store of many chunks. */
class AugmentedStreamTest {
  private static final int N = 97;
  private SyntheticStore store;
  private ExecutorService pool;
  private InProcessDataPlane plane;
  private DataPlaneGrpc.DataPlaneBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    store = new SyntheticStore("pics", N, 5, true);
    pool = Executors.newFixedThreadPool(2);
    ChunkSource source = store.directSource();
    ResumeTokenCodec tokens = new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32])));
    DataPlaneService service = new DataPlaneService(store, source, tokens,
        new ServerMetrics(new SimpleMeterRegistry()), pool, new StreamLimits(1000, 4, 1 << 20));
    plane = InProcessDataPlane.serve(service);
    stub = plane.stub;
  }

  @AfterEach
  void stop() throws Exception {
    plane.close();
    pool.shutdownNow();
  }

  private static AugmentSpec spec() {
    return AugmentSpec.newBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(0.5))
        .setRotation(Rotation.newBuilder().setProbability(0.5).setMaxDegrees(20))
        .setCrop(Crop.newBuilder().setProbability(0.7).setPadding(1))
        .setNoise(GaussianNoise.newBuilder().setProbability(0.5).setStddev(0.05))
        .build();
  }

  private static StreamBatchesRequest.Builder req(AugmentSpec augment) {
    return StreamBatchesRequest.newBuilder().setDataset("pics").setBatchSize(8).setShuffle(true)
        .setSeed(11).setShuffleWindow(3).setAugment(augment);
  }

  private List<Batch> all(StreamBatchesRequest r) {
    List<Batch> out = new ArrayList<>();
    stub.streamBatches(r).forEachRemaining(out::add);
    return out;
  }

  private static Tensor img(Batch b) {
    return b.getTensorsList().stream().filter(t -> t.getName().equals("img")).findFirst()
        .orElseThrow();
  }

  /** Each sample's img bytes, by sample id. */
  private static Map<Long, ByteString> samples(List<Batch> batches) {
    Map<Long, ByteString> out = new HashMap<>();
    for (Batch b : batches) {
      Tensor t = img(b);
      int size = t.getData().size() / b.getSampleIdsCount();
      for (int i = 0; i < b.getSampleIdsCount(); i++) {
        out.put(b.getSampleIds(i), t.getData().substring(i * size, (i + 1) * size));
      }
    }
    return out;
  }

  @Test
  void augmentedStreamKeepsShapeAndDtypeAndChangesSomeSamplesOnly() {
    List<Batch> plain = all(req(AugmentSpec.getDefaultInstance()).build());
    List<Batch> aug = all(req(spec()).build());
    assertThat(aug).hasSameSizeAs(plain);
    for (int i = 0; i < aug.size(); i++) {
      assertThat(img(aug.get(i)).getShapeList()).isEqualTo(img(plain.get(i)).getShapeList());
      assertThat(img(aug.get(i)).getDtype()).isEqualTo(DType.DTYPE_UINT8);
      // Other fields pass untouched.
      assertThat(aug.get(i).getTensors(1)).isEqualTo(plain.get(i).getTensors(1));
    }
    Map<Long, ByteString> before = samples(plain);
    Map<Long, ByteString> after = samples(aug);
    long changed = after.entrySet().stream()
        .filter(e -> !e.getValue().equals(before.get(e.getKey()))).count();
    // P(no transform fires) = 0.5 · 0.5 · 0.3 · 0.5 ≈ 4%: nearly all change, and not by accident.
    assertThat(changed).isBetween(N * 80L / 100, (long) N);
  }

  @Test
  void samplesDependOnSeedEpochAndIdNotOnBatchOrShuffle() {
    Map<Long, ByteString> a = samples(all(req(spec()).build()));
    // Another batch size and no shuffle: different batch mates, same per-sample result.
    Map<Long, ByteString> b = samples(all(req(spec()).setBatchSize(13).setShuffle(false).build()));
    assertThat(b).isEqualTo(a);
    assertThat(samples(all(req(spec()).setEpoch(1).build()))).isNotEqualTo(a);
    assertThat(samples(all(req(spec()).setSeed(12).build()))).isNotEqualTo(a);
  }

  @Test
  void resumeReproducesTheSameBytes() {
    List<Batch> full = all(req(spec()).build());
    for (int cut : new int[] {0, 4, full.size() - 2}) {
      List<Batch> rest = all(req(spec()).setResumeToken(full.get(cut).getResumeToken()).build());
      assertThat(rest).hasSize(full.size() - cut - 1);
      for (int i = 0; i < rest.size(); i++) {
        Batch want = full.get(cut + 1 + i);
        assertThat(rest.get(i).getSampleIdsList()).isEqualTo(want.getSampleIdsList());
        assertThat(rest.get(i).getTensorsList()).isEqualTo(want.getTensorsList());
      }
    }
  }

  @Test
  void tokenFromADifferentlyAugmentedStreamIsRefusedNamingAugment() {
    ByteString token = all(req(spec()).build()).get(2).getResumeToken();
    AugmentSpec other = spec().toBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(0.25)).build();
    assertStatus(req(other).setResumeToken(token).build(), Status.Code.FAILED_PRECONDITION,
        "augment");
    assertStatus(req(AugmentSpec.getDefaultInstance()).setResumeToken(token).build(),
        Status.Code.FAILED_PRECONDITION, "augment");
    ByteString plainToken = all(req(AugmentSpec.getDefaultInstance()).build()).get(2)
        .getResumeToken();
    assertStatus(req(spec()).setResumeToken(plainToken).build(), Status.Code.FAILED_PRECONDITION,
        "augment");
    // The same plan written differently (field named instead of inferred) is the same stream.
    assertThat(all(req(spec().toBuilder().setField("img").setLayout("hwc").build())
        .setResumeToken(token).build())).isNotEmpty();
  }

  @Test
  void normalizeSendsFloat32AndTheBatchByteLimitCountsIt() {
    AugmentSpec norm = AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder()
        .setEnabled(true).addMean(0.5).addStd(0.25)).build();
    Batch b = all(req(norm).setShuffle(false).setBatchSize(4).addFields("img").build()).get(0);
    Tensor t = img(b);
    assertThat(t.getDtype()).isEqualTo(DType.DTYPE_FLOAT32);
    assertThat(t.getShapeList()).containsExactly(4L, 4L, 5L, 3L);
    ByteBuffer f = t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) {
      for (int k = 0; k < SyntheticStore.IMG_ELEMENTS; k++) {
        int stored = (int) ((i * 7L + k) & 0xff);
        assertThat(f.getFloat()).isEqualTo((float) ((stored / 255.0 - 0.5) / 0.25));
      }
    }
    // The limit is 1000 bytes: 8 samples are 568 bytes as stored, 2008 with img as float32.
    assertThat(all(req(AugmentSpec.getDefaultInstance()).build())).isNotEmpty();
    assertStatus(req(norm).build(), Status.Code.RESOURCE_EXHAUSTED, "2008 bytes");
  }

  @Test
  void badSpecsAreRejectedNamingTheField() {
    assertStatus(req(AugmentSpec.newBuilder().setRotation(Rotation.newBuilder()
        .setProbability(1.5)).build()).build(), Status.Code.INVALID_ARGUMENT,
        "augment.rotation.probability must be in [0,1]");
    assertStatus(req(AugmentSpec.newBuilder().setField("id").setHorizontalFlip(
        HorizontalFlip.newBuilder().setProbability(1)).build()).build(),
        Status.Code.INVALID_ARGUMENT, "augment.field 'id' is int64");
    assertStatus(req(AugmentSpec.newBuilder().setField("nope").build()).build(),
        Status.Code.INVALID_ARGUMENT, "augment.field 'nope' is not a field of dataset pics");
    assertStatus(req(AugmentSpec.newBuilder().setAutoencoder(AutoencoderAugment.newBuilder()
        .setModel("x").setMode("perturb").setProbability(0.5).setStrength(0.1)).build()).build(),
        Status.Code.NOT_FOUND, "model 'x' not found");
  }

  private void assertStatus(StreamBatchesRequest r, Status.Code code, String text) {
    assertThatThrownBy(() -> all(r))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(code);
          assertThat(e.getStatus().getDescription()).contains(text);
        });
  }
}
