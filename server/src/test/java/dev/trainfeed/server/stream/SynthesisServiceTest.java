package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.ListModelsRequest;
import dev.trainfeed.proto.v1.ModelInfo;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.SynthesizeRequest;
import dev.trainfeed.proto.v1.SyntheticMix;
import dev.trainfeed.proto.v1.Tensor;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.Ingest;
import dev.trainfeed.server.store.IngestOptions;
import dev.trainfeed.server.store.LocalChunkStore;
import dev.trainfeed.server.store.NpyIngest;
import dev.trainfeed.server.store.WriterOptions;
import dev.trainfeed.server.synth.BundledModels;
import dev.trainfeed.server.synth.LoadedModel;
import dev.trainfeed.server.synth.AutoencoderAugmenters;
import dev.trainfeed.server.synth.ModelRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ListModels}, {@code Synthesize} and synthetic mixes over an in-process transport, with
 * the real bundled models on CPU and the bundled digits ingested as many small chunks.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SynthesisServiceTest {
  private static final String GAN = BundledModels.GAN;
  private static final String VAE = BundledModels.VAE;
  private Path tmp;
  private LocalChunkStore store;
  private DatasetManifest digits;
  private ModelRegistry models;
  private ExecutorService pool;
  private InProcessDataPlane plane;
  private DataPlaneGrpc.DataPlaneBlockingStub stub;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    tmp = dir;
    Path data = tmp.resolve("data");
    digits = Ingest.run(IngestOptions.builder().dataDir(data).name("digits")
        .source(new NpyIngest(Path.of("..", "data", "digits")))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(4096).build()).build());
    assertThat(digits.chunks().size()).isGreaterThan(20);
    store = new LocalChunkStore(data);
    Path modelDir = tmp.resolve("models");
    BundledModels.copy(GAN, modelDir, GAN);
    BundledModels.copy(VAE, modelDir, VAE);
    Path ae = Path.of("src", "test", "resources", "models", "digits-ae").toAbsolutePath();
    Files.createDirectories(modelDir.resolve("digits-ae"));
    for (String f : List.of("descriptor.yaml", "encoder.onnx", "decoder.onnx")) {
      Files.copy(ae.resolve(f), modelDir.resolve("digits-ae").resolve(f));
    }
    models = BundledModels.registry(modelDir, 16);
    pool = Executors.newFixedThreadPool(4);
    ChunkSource source = DirectChunkSource.of(store);
    DataPlaneService service = new DataPlaneService(store, source,
        new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32]))),
        new ServerMetrics(new SimpleMeterRegistry()), pool,
        new StreamLimits(64 << 20, 16, 1 << 20), models,
        AutoencoderAugmenters.from(models));
    plane = InProcessDataPlane.serve(service);
    stub = plane.stub;
  }

  @AfterAll
  void stop() throws Exception {
    plane.close();
    pool.shutdownNow();
    models.close();
    store.close();
  }

  private static SynthesizeRequest.Builder synth(String model) {
    return SynthesizeRequest.newBuilder().setModel(model).setCount(50).setBatchSize(16)
        .setSeed(11);
  }

  private List<Batch> all(SynthesizeRequest r) {
    List<Batch> out = new ArrayList<>();
    stub.synthesize(r).forEachRemaining(out::add);
    return out;
  }

  private List<Batch> all(StreamBatchesRequest r) {
    List<Batch> out = new ArrayList<>();
    stub.streamBatches(r).forEachRemaining(out::add);
    return out;
  }

  /** Concatenated bytes of tensor {@code name} over {@code batches}. */
  private static byte[] bytes(List<Batch> batches, String name) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Batch b : batches) {
      b.getTensorsList().stream().filter(t -> t.getName().equals(name))
          .forEach(t -> out.writeBytes(t.getData().toByteArray()));
    }
    return out.toByteArray();
  }

  private static void assertStatus(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(message);
    });
  }

  @Test
  void listModelsDescribesEachModel() {
    List<ModelInfo> list = stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
    assertThat(list).extracting(ModelInfo::getName).containsExactly("digits-ae", GAN, VAE);
    ModelInfo gan = list.get(1);
    assertThat(gan.getKind()).isEqualTo("gan");
    assertThat(gan.getConditional()).isTrue();
    assertThat(gan.getLatentDim()).isEqualTo(32);
    assertThat(gan.getProvider()).isEqualTo("cpu");
    assertThat(gan.getVersion()).hasSize(64);
    assertThat(gan.getOutputsList()).extracting(f -> f.getName() + f.getShapeList())
        .containsExactly("image[8, 8]", "label[]");
    assertThat(list.get(2).getKind()).isEqualTo("vae");
    assertThat(list.get(2).getConditional()).isFalse();
  }

  @Test
  void synthesizeIsDeterministicAndIndependentOfBatchSize() {
    List<Batch> a = all(synth(GAN).build());
    assertThat(a).hasSize(4);
    assertThat(a.get(3).getSampleIdsList()).containsExactly(48L, 49L);
    assertThat(a.get(0).getSyntheticList()).hasSize(16).containsOnly(true);
    Tensor image = a.get(0).getTensors(0);
    assertThat(image.getShapeList()).containsExactly(16L, 8L, 8L);
    assertThat(bytes(all(synth(GAN).build()), "image")).isEqualTo(bytes(a, "image"));
    for (int bs : new int[] {1, 7, 64}) {
      List<Batch> other = all(synth(GAN).setBatchSize(bs).build());
      assertThat(bytes(other, "image")).as("batch size %d", bs).isEqualTo(bytes(a, "image"));
      assertThat(bytes(other, "label")).isEqualTo(bytes(a, "label"));
    }
    assertThat(bytes(all(synth(GAN).setSeed(12).build()), "image"))
        .isNotEqualTo(bytes(a, "image"));
    assertThat(bytes(all(synth(VAE).build()), "image")).hasSize(50 * 64);
  }

  @Test
  void classLabelFixesTheClassAndTheLatentsStayTheSame() {
    List<Batch> three = all(synth(GAN).setClassLabel(3).build());
    ByteBuffer labels = ByteBuffer.wrap(bytes(three, "label")).order(ByteOrder.LITTLE_ENDIAN);
    while (labels.hasRemaining()) {
      assertThat(labels.getLong()).isEqualTo(3);
    }
    // Uniform classes without class_label: all ten appear in 50 samples... most of them at least.
    ByteBuffer drawn = ByteBuffer.wrap(bytes(all(synth(GAN).build()), "label"))
        .order(ByteOrder.LITTLE_ENDIAN);
    boolean[] seen = new boolean[10];
    while (drawn.hasRemaining()) {
      seen[(int) drawn.getLong()] = true;
    }
    int distinct = 0;
    for (boolean s : seen) {
      distinct += s ? 1 : 0;
    }
    assertThat(distinct).isGreaterThanOrEqualTo(7);
  }

  @Test
  void synthesizeResumesExactly() {
    List<Batch> full = all(synth(GAN).build());
    ByteString token = full.get(1).getResumeToken();
    List<Batch> rest = all(synth(GAN).setResumeToken(token).build());
    assertThat(rest).extracting(Batch::getIndex).containsExactly(2L, 3L);
    assertThat(bytes(rest, "image")).isEqualTo(bytes(full.subList(2, 4), "image"));
    assertThat(all(synth(GAN).setResumeToken(full.get(3).getResumeToken()).build())).isEmpty();
    assertStatus(() -> all(synth(GAN).setSeed(1).setResumeToken(token).build()),
        Status.Code.FAILED_PRECONDITION, "seed");
    assertStatus(() -> all(synth(GAN).setCount(51).setResumeToken(token).build()),
        Status.Code.FAILED_PRECONDITION, "count");
    assertStatus(() -> all(synth(GAN).setClassLabel(2).setResumeToken(token).build()),
        Status.Code.FAILED_PRECONDITION, "class_label");
    assertStatus(() -> all(synth(GAN).setResumeToken(ByteString.copyFromUtf8("nope")).build()),
        Status.Code.INVALID_ARGUMENT, "resume_token");
  }

  @Test
  void synthesizeErrors() {
    assertStatus(() -> all(synth(GAN).setCount(0).build()), Status.Code.INVALID_ARGUMENT,
        "count");
    assertStatus(() -> all(synth(GAN).setBatchSize(0).build()), Status.Code.INVALID_ARGUMENT,
        "batch_size");
    assertStatus(() -> all(synth("nope").build()), Status.Code.NOT_FOUND, "nope");
    assertStatus(() -> all(synth("digits-ae").build()), Status.Code.FAILED_PRECONDITION,
        "no prior");
    assertStatus(() -> all(synth(VAE).setClassLabel(1).build()), Status.Code.INVALID_ARGUMENT,
        "not conditional");
    assertStatus(() -> all(synth(GAN).setClassLabel(10).build()), Status.Code.INVALID_ARGUMENT,
        "class_label 10");
    assertStatus(() -> all(synth(GAN).setClassLabel(-1).build()), Status.Code.INVALID_ARGUMENT,
        "class_label -1");
  }

  private static StreamBatchesRequest.Builder mixed(String model, double fraction) {
    return StreamBatchesRequest.newBuilder().setDataset("digits").setBatchSize(32)
        .setShuffle(true).setSeed(5).setEpoch(1).setWorldSize(2).setRank(1)
        .setSynthetic(SyntheticMix.newBuilder().setModel(model).setFraction(fraction));
  }

  @Test
  void mixingAppendsKSyntheticSamplesAndKeepsRealOnesExactlyOnce() {
    long n = digits.numSamples();
    int[] seen = new int[(int) n];
    int batches = -1;
    for (int rank = 0; rank < 2; rank++) {
      List<Batch> got = all(mixed(GAN, 0.25).setRank(rank).build());
      batches = batches < 0 ? got.size() : batches;
      assertThat(got).hasSize(batches);
      long syntheticIndex = 0;
      for (Batch b : got) {
        int real = b.getSampleIdsCount() - 8;
        assertThat(b.getSyntheticList()).hasSize(b.getSampleIdsCount());
        for (int i = 0; i < b.getSampleIdsCount(); i++) {
          long id = b.getSampleIds(i);
          if (i < real) {
            assertThat(b.getSynthetic(i)).isFalse();
            assertThat(id).isLessThan(n);
            if (b.getPaddingCount() == 0 || !b.getPadding(i)) {
              seen[(int) id]++;
            }
          } else {
            assertThat(b.getSynthetic(i)).isTrue();
            assertThat(id).isEqualTo(n + syntheticIndex++);
          }
        }
        for (Tensor t : b.getTensorsList()) {
          assertThat(t.getShape(0)).isEqualTo(b.getSampleIdsCount());
        }
      }
    }
    // k = floor(0.25·32 + 0.5) = 8, so 24 real samples per batch: ceil(ceil(1797/2)/24) batches.
    assertThat(batches).isEqualTo((int) Math.ceil(899 / 24.0));
    for (int c : seen) {
      assertThat(c).isEqualTo(1);
    }
  }

  @Test
  void mixedSamplesAreWhatSynthesizeReturnsForTheStreamSeed() throws Exception {
    List<Batch> got = all(mixed(GAN, 0.25).build());
    Batch b = got.get(2);
    Tensor image = b.getTensorsList().stream().filter(t -> t.getName().equals("image"))
        .findFirst().orElseThrow();
    Tensor label = b.getTensorsList().stream().filter(t -> t.getName().equals("label"))
        .findFirst().orElseThrow();
    long h = SyntheticMixes.streamSeed(5, 1, 1);
    LoadedModel gan = models.acquire(GAN).orElseThrow();
    try {
      ByteBuffer labels = label.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      long[] classes = new long[8];
      for (int j = 0; j < 8; j++) {
        classes[j] = labels.getLong((24 + j) * 8);
        assertThat(classes[j]).isBetween(0L, 9L);
      }
      byte[] expected = gan.generate(h, 16, 8, classes).field();
      assertThat(image.getData().substring(24 * 64).toByteArray()).isEqualTo(expected);
      // Synthesize with that seed and class returns the same image at that index.
      List<Batch> one = all(SynthesizeRequest.newBuilder().setModel(GAN).setSeed(h).setCount(17)
          .setBatchSize(17).setClassLabel(classes[0]).build());
      assertThat(one.get(0).getTensors(0).getData().substring(16 * 64).toByteArray())
          .isEqualTo(java.util.Arrays.copyOf(expected, 64));
    } finally {
      gan.release();
    }
    // The same request streams the same bytes; a resumed stream continues exactly.
    assertThat(bytes(all(mixed(GAN, 0.25).build()), "image")).isEqualTo(bytes(got, "image"));
    List<Batch> rest = all(mixed(GAN, 0.25).setResumeToken(got.get(4).getResumeToken()).build());
    assertThat(bytes(rest, "image")).isEqualTo(bytes(got.subList(5, got.size()), "image"));
    assertStatus(() -> all(mixed(GAN, 0.5).setResumeToken(got.get(4).getResumeToken()).build()),
        Status.Code.FAILED_PRECONDITION, "synthetic.fraction");
    assertStatus(() -> all(mixed(VAE, 0.25).addFields("image")
        .setResumeToken(got.get(4).getResumeToken()).build()),
        Status.Code.FAILED_PRECONDITION, "synthetic.model");
  }

  @Test
  void conditionalClassesFollowTheDatasetFrequencies() {
    List<Batch> got = all(mixed(GAN, 0.5).setWorldSize(1).setRank(0).build());
    int[] counts = new int[10];
    for (Batch b : got) {
      ByteBuffer labels = b.getTensorsList().stream().filter(t -> t.getName().equals("label"))
          .findFirst().orElseThrow().getData().asReadOnlyByteBuffer()
          .order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < b.getSampleIdsCount(); i++) {
        if (b.getSynthetic(i)) {
          counts[(int) labels.getLong(i * 8)]++;
        }
      }
    }
    // About 1800 synthetic samples over 10 nearly equal classes.
    for (int c : counts) {
      assertThat(c).isBetween(120, 250);
    }
  }

  @Test
  void invalidMixesAreRefusedNamingTheProblem() {
    assertStatus(() -> all(mixed(GAN, 0.99).build()), Status.Code.INVALID_ARGUMENT,
        "k must be less than batch_size");
    assertStatus(() -> all(mixed(GAN, 1.0).build()), Status.Code.INVALID_ARGUMENT,
        "synthetic.fraction");
    assertStatus(() -> all(mixed("nope", 0.25).build()), Status.Code.NOT_FOUND, "nope");
    // The VAE yields no label: with every field requested it is refused naming the field.
    assertStatus(() -> all(mixed(VAE, 0.25).build()), Status.Code.INVALID_ARGUMENT,
        "field 'label'");
    assertStatus(() -> all(mixed("digits-ae", 0.25).addFields("image").build()),
        Status.Code.INVALID_ARGUMENT, "autoencoder");
    // With only the image it mixes.
    List<Batch> ok = all(mixed(VAE, 0.25).addFields("image").build());
    assertThat(ok.get(0).getSyntheticList()).contains(true);
  }

  @Test
  void aMixOnAnotherShapeIsRefusedNamingTheField() throws Exception {
    // A dataset whose image is 4x16 has the model's element count but not its shape.
    Path src = tmp.resolve("wide");
    Files.createDirectories(src);
    byte[] header = ("{'descr': '|u1', 'fortran_order': False, 'shape': (40, 4, 16), }")
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int pad = 64 - (10 + header.length + 1) % 64;
    ByteBuffer npy = ByteBuffer.allocate(10 + header.length + pad + 1 + 40 * 64)
        .order(ByteOrder.LITTLE_ENDIAN);
    npy.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .put((byte) 1).put((byte) 0).putShort((short) (header.length + pad + 1)).put(header);
    for (int i = 0; i < pad; i++) {
      npy.put((byte) ' ');
    }
    npy.put((byte) '\n');
    Files.write(src.resolve("image.npy"), npy.array());
    Ingest.run(IngestOptions.builder().dataDir(tmp.resolve("data")).name("wide")
        .source(new NpyIngest(src))
        .writerOptions(WriterOptions.builder().chunkSizeBytes(512).build()).build());
    assertStatus(() -> all(mixed(VAE, 0.25).setDataset("wide").setWorldSize(1).setRank(0)
        .build()), Status.Code.INVALID_ARGUMENT, "field 'image'");
  }

  @Test
  void aStreamFinishesOnTheModelVersionItStartedWith() throws Exception {
    Path dir = tmp.resolve("swap");
    BundledModels.copy(GAN, dir, "g");
    ModelRegistry swap = BundledModels.registry(dir, 16);
    DataPlaneService service = new DataPlaneService(store, DirectChunkSource.of(store), new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32]))),
        new ServerMetrics(new SimpleMeterRegistry()), pool,
        new StreamLimits(64 << 20, 16, 1 << 20), swap,
        AutoencoderAugmenters.from(swap));
    InProcessDataPlane swapped = InProcessDataPlane.serve(service);
    try {
      DataPlaneGrpc.DataPlaneBlockingStub st = swapped.stub;
      LoadedModel v1 = swap.acquire("g").orElseThrow();
      String oldVersion = v1.version();
      v1.release();
      SynthesizeRequest r = synth("g").setCount(64).setBatchSize(8).build();
      List<Batch> reference = new ArrayList<>();
      st.synthesize(r).forEachRemaining(reference::add);

      Iterator<Batch> running = st.synthesize(r);
      List<Batch> got = new ArrayList<>();
      got.add(running.next());
      // Replace the model while the stream runs: a new descriptor makes a new version.
      Path d = dir.resolve("g").resolve(ModelRegistry.DESCRIPTOR);
      Files.writeString(d, Files.readString(d).replace("latent_dim: 32", "latent_dim: 32 # v2"));
      swap.refresh();
      assertThat(st.listModels(ListModelsRequest.getDefaultInstance()).getModels(0).getVersion())
          .isNotEqualTo(oldVersion);
      running.forEachRemaining(got::add);
      assertThat(bytes(got, "image")).isEqualTo(bytes(reference, "image"));
      // The old version closes once its last stream is done with it.
      LoadedModel v2 = swap.acquire("g").orElseThrow();
      v2.release();
      // A stream cancelled mid-way (a million samples fill the 1 MiB flow-control window) lets
      // its version go as well: start one on v2, cancel it,
      // replace the model again, and v2 closes.
      io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
      Iterator<Batch> cancelled = ctx.call(() -> st.synthesize(synth("g").setCount(1_000_000)
          .setBatchSize(8).build()));
      cancelled.next();
      ctx.cancel(null);
      Files.writeString(d, Files.readString(d) + "\n# v3\n");
      swap.refresh();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!v2.isClosed() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(v2.isClosed()).as("a cancelled stream releases its model version").isTrue();
      // Its token pins the old version, which is gone: refused naming the version.
      assertStatus(() -> st.synthesize(synth("g").setCount(64).setBatchSize(8)
          .setResumeToken(got.get(2).getResumeToken()).build()).next(),
          Status.Code.FAILED_PRECONDITION, "model (version");
    } finally {
      swapped.close();
      swap.close();
    }
  }
}
