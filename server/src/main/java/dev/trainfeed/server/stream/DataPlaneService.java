package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.DatasetInfo;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import dev.trainfeed.proto.v1.ListDatasetsResponse;
import dev.trainfeed.proto.v1.ListModelsRequest;
import dev.trainfeed.proto.v1.ListModelsResponse;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.SynthesizeRequest;
import dev.trainfeed.server.augment.AugmentPlan;
import dev.trainfeed.server.augment.Augmenter;
import dev.trainfeed.server.augment.AutoencoderModels;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.EpochOrder;
import dev.trainfeed.server.order.InvalidResumeTokenException;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.order.ShardPlan;
import dev.trainfeed.server.order.StreamSettings;
import dev.trainfeed.server.security.DatasetAccess;
import dev.trainfeed.server.store.ChunkStore;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.DatasetNames;
import dev.trainfeed.server.synth.ModelRegistry;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code trainfeed.v1.DataPlane} service: datasets, and one epoch of one rank per
 * {@code StreamBatches} call.
 */
public final class DataPlaneService extends DataPlaneGrpc.DataPlaneImplBase {
  /** Largest world size accepted; far above any real job, it keeps arithmetic in range. */
  static final int MAX_WORLD_SIZE = 1 << 20;
  private final ChunkStore store;
  private final ChunkSource chunks;
  private final ResumeTokenCodec tokens;
  private final ServerMetrics metrics;
  private final Executor streamExecutor;
  private final StreamLimits limits;
  private final AutoencoderModels autoencoders;
  private final ModelRegistry models;
  private final SyntheticMixes mixes;
  private final Set<BatchStreamer<?>> active = ConcurrentHashMap.newKeySet();
  private final AtomicInteger streams = new AtomicInteger();
  private volatile boolean draining;
  /** Set once {@link #abortStreams} ran: a stream admitted just before draining is ended too. */
  private volatile Status aborted;

  /**
   * Creates the service.
   *
   * @param store where manifests come from
   * @param chunks where decoded chunks come from (the cache-backed loader)
   * @param tokens signs and verifies resume tokens
   * @param metrics stream meters
   * @param streamExecutor bounded executor that builds and sends batches
   * @param limits request limits
   */
  public DataPlaneService(ChunkStore store, ChunkSource chunks, ResumeTokenCodec tokens,
      ServerMetrics metrics, Executor streamExecutor, StreamLimits limits) {
    this(store, chunks, tokens, metrics, streamExecutor, limits, ModelRegistry.none(),
        AutoencoderModels.NONE);
  }

  /**
   * Creates the service with the autoencoders that {@code AugmentSpec.autoencoder} may name.
   *
   * @param autoencoders looks up autoencoder augmenters by model name
   */
  public DataPlaneService(ChunkStore store, ChunkSource chunks, ResumeTokenCodec tokens,
      ServerMetrics metrics, Executor streamExecutor, StreamLimits limits,
      AutoencoderModels autoencoders) {
    this(store, chunks, tokens, metrics, streamExecutor, limits, ModelRegistry.none(),
        autoencoders);
  }

  /**
   * Creates the service with generative models for {@code Synthesize}, synthetic mixes and
   * autoencoder augmentation.
   *
   * @param models the loaded models
   * @param autoencoders looks up autoencoder augmenters by model name
   */
  public DataPlaneService(ChunkStore store, ChunkSource chunks, ResumeTokenCodec tokens,
      ServerMetrics metrics, Executor streamExecutor, StreamLimits limits, ModelRegistry models,
      AutoencoderModels autoencoders) {
    this.autoencoders = autoencoders;
    this.models = models;
    this.mixes = new SyntheticMixes(models, store);
    this.store = store;
    this.chunks = chunks;
    this.tokens = tokens;
    this.metrics = metrics;
    this.streamExecutor = streamExecutor;
    this.limits = limits;
  }

  /** Refuses new streams with {@code UNAVAILABLE} from now on (shutdown has begun). */
  public void startDraining() {
    draining = true;
  }

  /** Ends every running stream with {@code UNAVAILABLE} at its next batch boundary. */
  public void abortStreams() {
    Status s = Status.UNAVAILABLE.withDescription("server is shutting down; resume from the last "
        + "resume_token on another replica");
    aborted = s;
    for (BatchStreamer<?> b : active) {
      b.abort(s);
    }
  }

  /**
   * Starts a stream that was admitted. A stream admitted just before {@link #startDraining} can
   * join the set after {@link #abortStreams} went through it; it sees {@code aborted} here and
   * ends at once, rather than holding its chunks (pinned cache pages) until gRPC cancels it.
   */
  private void launch(BatchStreamer<?> streamer) {
    active.add(streamer);
    streamer.start(limits.onReadyThresholdBytes());
    Status s = aborted;
    if (s != null) {
      streamer.abort(s);
    }
  }

  /**
   * Runs the drain tasks a stopped stream executor never started ({@code shutdownNow()}'s list),
   * on the calling thread. Call it once the gRPC server has terminated and {@link #abortStreams}
   * ran: each such stream has ended, and its task, which owns the stream's release, only lets its
   * chunks go (pinned cache pages, which would otherwise make the cache's close time out). A
   * task that fails is skipped; the others still run.
   */
  public static void runAbandoned(List<Runnable> neverRan) {
    for (Runnable task : neverRan) {
      try {
        task.run();
      } catch (RuntimeException e) {
        // The call is gone already (onError on a closed call): the release ran in its finally.
      }
    }
  }

  /** Streams in progress. */
  public int activeStreams() {
    return active.size();
  }

  @Override
  public void listDatasets(ListDatasetsRequest request,
      StreamObserver<ListDatasetsResponse> response) {
    try {
      ListDatasetsResponse.Builder b = ListDatasetsResponse.newBuilder();
      DatasetAccess access = DatasetAccess.current();
      for (DatasetManifest m : store.list()) {
        if (access.allows(m.name())) {
          b.addDatasets(DatasetInfos.toProto(m));
        }
      }
      response.onNext(b.build());
      response.onCompleted();
    } catch (Throwable t) {
      response.onError(Errors.toStatus(t).asRuntimeException());
    }
  }

  @Override
  public void getDataset(GetDatasetRequest request, StreamObserver<DatasetInfo> response) {
    try {
      // Checked before the lookup, so a caller learns nothing about datasets it may not read.
      DatasetAccess.current().check(DatasetNames.parseRef(request.getName())[0]);
      response.onNext(DatasetInfos.toProto(store.resolve(request.getName())));
      response.onCompleted();
    } catch (Throwable t) {
      response.onError(Errors.toStatus(t).asRuntimeException());
    }
  }

  /**
   * The generated binding's {@code StreamBatches}: the same stream, each batch copied into a
   * generated message. {@link DataPlaneBinding#bind} serves {@link #streamBatchPayloads} instead.
   */
  @Override
  public void streamBatches(StreamBatchesRequest request, StreamObserver<Batch> response) {
    stream(request, (ServerCallStreamObserver<Batch>) response, BatchPayload::toProto);
  }

  /**
   * {@code StreamBatches} for a call whose response marshaller is {@link BatchMarshaller}: batches
   * go out as slices of the cached chunks, copied once into the transport's buffers.
   */
  public void streamBatchPayloads(StreamBatchesRequest request,
      StreamObserver<BatchPayload> response) {
    stream(request, (ServerCallStreamObserver<BatchPayload>) response, p -> p);
  }

  private <T> void stream(StreamBatchesRequest request, ServerCallStreamObserver<T> call,
      java.util.function.Function<BatchPayload, T> message) {
    if (!admit(call)) {
      return;
    }
    StreamPlan plan;
    try {
      plan = plan(request);
    } catch (Throwable t) {
      streams.decrementAndGet();
      call.onError(Errors.toStatus(t).asRuntimeException());
      return;
    }
    BatchAssembler assembler = new BatchAssembler(plan, chunks, tokens);
    BatchStreamer<T> streamer = new BatchStreamer<>(plan, assembler, call, message,
        streamExecutor, metrics, s -> {
          active.remove(s);
          streams.decrementAndGet();
          metrics.datasets().closed(plan.dataset());
        });
    metrics.datasets().opened(plan.dataset());
    launch(streamer);
  }

  /** Admits a new stream: {@code UNAVAILABLE} while draining, {@code RESOURCE_EXHAUSTED} over the limit. */
  private boolean admit(ServerCallStreamObserver<?> call) {
    if (draining) {
      call.onError(Status.UNAVAILABLE.withDescription("server is shutting down; connect to "
          + "another replica").asRuntimeException());
      return false;
    }
    if (streams.incrementAndGet() > limits.maxStreams()) {
      streams.decrementAndGet();
      call.onError(Status.RESOURCE_EXHAUSTED.withDescription("this server already runs "
          + limits.maxStreams() + " streams (--max-streams); retry later or raise the limit")
          .asRuntimeException());
      return false;
    }
    return true;
  }

  @Override
  public void listModels(ListModelsRequest request, StreamObserver<ListModelsResponse> response) {
    try {
      response.onNext(ModelInfos.list(models));
      response.onCompleted();
    } catch (Throwable t) {
      response.onError(Errors.toStatus(t).asRuntimeException());
    }
  }

  @Override
  public void synthesize(SynthesizeRequest request, StreamObserver<Batch> response) {
    ServerCallStreamObserver<Batch> call = (ServerCallStreamObserver<Batch>) response;
    if (!admit(call)) {
      return;
    }
    SynthesisSource source;
    try {
      source = SynthesisSource.open(request, models, tokens);
      long bytes = source.largestBatchBytes();
      if (bytes > limits.maxBatchBytes()) {
        source.release();
        throw Status.RESOURCE_EXHAUSTED.withDescription("a batch of " + request.getBatchSize()
            + " synthetic samples is " + bytes + " bytes, over the server's limit of "
            + limits.maxBatchBytes() + " bytes (--max-batch-bytes); lower batch_size")
            .asRuntimeException();
      }
    } catch (Throwable t) {
      streams.decrementAndGet();
      call.onError(Errors.toStatus(t).asRuntimeException());
      return;
    }
    BatchStreamer<Batch> streamer = new BatchStreamer<>(source, source.firstBatch(),
        source.endBatch(), call, BatchPayload::toProto, streamExecutor, metrics, s -> {
          active.remove(s);
          streams.decrementAndGet();
        });
    launch(streamer);
  }

  /** Validates a request against the contract and the dataset, and works out what to send. */
  StreamPlan plan(StreamBatchesRequest r) throws Exception {
    String[] ref = DatasetNames.parseRef(r.getDataset());
    DatasetAccess.current().check(ref[0]);
    if (r.getBatchSize() == 0) {
      throw Errors.invalid("batch_size must be at least 1");
    }
    int worldSize = r.getWorldSize() == 0 ? 1 : r.getWorldSize();
    if (worldSize < 0 || worldSize > MAX_WORLD_SIZE) {
      throw Errors.invalid("world_size " + Integer.toUnsignedString(worldSize) + " is over the "
          + "limit of " + MAX_WORLD_SIZE);
    }
    if (r.getRank() < 0 || Integer.compareUnsigned(r.getRank(), worldSize) >= 0) {
      throw Errors.invalid("rank " + Integer.toUnsignedString(r.getRank())
          + " must be less than world_size " + Integer.toUnsignedString(worldSize));
    }
    if (r.getBatchSize() < 0) {
      throw Errors.invalid("batch_size " + Integer.toUnsignedString(r.getBatchSize())
          + " is too large");
    }
    int window = r.getShuffleWindow() == 0 ? EpochOrder.DEFAULT_SHUFFLE_WINDOW
        : r.getShuffleWindow();
    if (window < 0) {
      throw Errors.invalid("shuffle_window " + Integer.toUnsignedString(r.getShuffleWindow())
          + " is too large");
    }
    boolean mixed = SyntheticMixes.requested(r.getSynthetic());
    int k = mixed ? SyntheticMixes.syntheticPerBatch(r.getSynthetic(), r.getBatchSize()) : 0;

    StreamSettings.Position resume = null;
    if (!r.getResumeToken().isEmpty()) {
      try {
        resume = StreamSettings.parseToken(tokens, r.getResumeToken().toByteArray());
      } catch (InvalidResumeTokenException e) {
        throw Errors.invalid(e.getMessage());
      }
    }
    // A token pins its dataset version, which stays servable while it is on disk.
    DatasetManifest ds;
    if (resume != null && ref[1] == null && resume.settings().datasetName().equals(ref[0])) {
      ds = store.resolve(ref[0] + "@" + resume.settings().datasetVersion());
    } else {
      ds = store.resolve(r.getDataset());
    }
    int[] fieldIndexes = selectFields(ds, r.getFieldsList());
    Augmenter augmenter = new Augmenter(AugmentPlan.compile(r.getAugment(), ds.name(),
        ds.fields(), autoencoders).orElse(null), r.getSeed(), r.getEpoch());
    SyntheticTail tail = !mixed ? null : mixes.open(r.getSynthetic(), ds, fieldIndexes,
        SyntheticMixes.streamSeed(r.getSeed(), r.getEpoch(), r.getRank()), k);
    try {
      StreamPlan plan = plan(r, ds, fieldIndexes, window, worldSize, k, augmenter, tail, resume);
      if (k == 0 && tail != null) {
        // A fraction that rounds to no synthetic sample needs no model while streaming.
        tail.close();
        return new StreamPlan(plan.dataset(), plan.fieldIndexes(), plan.settings(), plan.order(),
            plan.shard(), plan.firstBatch(), plan.augmenter(), null);
      }
      return plan;
    } catch (RuntimeException e) {
      if (tail != null) {
        tail.close();
      }
      throw e;
    }
  }

  private StreamPlan plan(StreamBatchesRequest r, DatasetManifest ds, int[] fieldIndexes,
      int window, int worldSize, int k, Augmenter augmenter, SyntheticTail tail,
      StreamSettings.Position resume) {
    StreamSettings settings = new StreamSettings(ds.name(), ds.version(), r.getShuffle(),
        r.getSeed(), r.getEpoch(), window, r.getRank(), worldSize, r.getBatchSize(),
        r.getDropLast(), augmenter.digest(), tail == null ? "" : r.getSynthetic().getModel(),
        tail == null ? 0.0 : r.getSynthetic().getFraction(),
        tail == null ? "" : tail.model().version());
    long firstBatch = 0;
    if (resume != null) {
      Optional<String> diff = resume.settings().firstDifference(settings);
      if (diff.isPresent()) {
        throw Status.FAILED_PRECONDITION.withDescription("resume_token was issued for a stream "
            + "with a different " + diff.get() + "; send the same request settings as the stream "
            + "that issued it (only fields may differ)").asRuntimeException();
      }
      firstBatch = resume.nextBatch();
    }
    ShardPlan shard = ShardPlan.of(ds.numSamples(), worldSize, r.getRank(), r.getBatchSize() - k,
        r.getDropLast());
    if (firstBatch > shard.numBatches()) {
      throw Errors.invalid("resume_token points past the end of the epoch");
    }
    StreamPlan plan = new StreamPlan(ds, fieldIndexes, settings,
        EpochOrder.of(ds.version(), ds.chunkSampleCounts(), r.getShuffle(), r.getSeed(),
            r.getEpoch(), window), shard, firstBatch, augmenter, tail);
    long bytes = plan.largestBatchPayloadBytes();
    if (bytes > limits.maxBatchBytes()) {
      throw Status.RESOURCE_EXHAUSTED.withDescription("a batch of " + (Math.min(r.getBatchSize()
          - k, shard.samplesPerRank()) + k) + " samples is " + bytes + " bytes, over the "
          + "server's limit of " + limits.maxBatchBytes() + " bytes (--max-batch-bytes); lower batch_size or select fewer fields")
          .asRuntimeException();
    }
    return plan;
  }

  private static int[] selectFields(DatasetManifest ds, List<String> requested) {
    if (requested.isEmpty()) {
      int[] all = new int[ds.fields().size()];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      return all;
    }
    Set<String> seen = new LinkedHashSet<>();
    int[] idx = new int[requested.size()];
    for (int i = 0; i < idx.length; i++) {
      String name = requested.get(i);
      if (!seen.add(name)) {
        throw Errors.invalid("field '" + name + "' is requested twice");
      }
      idx[i] = ds.fieldIndex(name);
      if (idx[i] < 0) {
        List<String> names = new ArrayList<>();
        ds.fields().forEach(f -> names.add(f.name()));
        throw Errors.invalid("unknown field '" + name + "'; dataset " + ds.name() + " has fields "
            + String.join(", ", names));
      }
    }
    return idx;
  }
}
