package dev.trainfeed.server;

import dev.trainfeed.server.cache.ChronicleChunkCache;
import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.cache.ChunkCache;
import dev.trainfeed.server.cache.ChunkLoader;
import dev.trainfeed.server.cache.ChunkPrefetcher;
import dev.trainfeed.server.cache.ClairvoyantEvictionPolicy;
import dev.trainfeed.server.cache.StreamDemand;
import dev.trainfeed.server.config.ServerOptions;
import dev.trainfeed.server.config.Sizes;
import dev.trainfeed.server.metrics.MetricsHttpServer;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.security.MalformedRequests;
import dev.trainfeed.server.security.OverloadGuard;
import dev.trainfeed.server.security.SecurityOptions;
import dev.trainfeed.server.security.TransportSecurity;
import dev.trainfeed.server.store.LocalChunkStore;
import dev.trainfeed.server.stream.ChunkSource;
import dev.trainfeed.server.stream.DataPlaneBinding;
import dev.trainfeed.server.stream.DataPlaneService;
import dev.trainfeed.server.stream.StreamLimits;
import dev.trainfeed.server.synth.AutoencoderAugmenters;
import dev.trainfeed.server.synth.CudaLibraries;
import dev.trainfeed.server.synth.ModelRegistry;
import dev.trainfeed.server.synth.SessionFactory;
import dev.trainfeed.server.synth.SynthMetrics;
import dev.trainfeed.server.synth.SynthOptions;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running TrainFeed server: store, cache, loader, the gRPC data plane with health and
 * reflection, and the Prometheus endpoint, started together and stopped gracefully.
 */
public final class TrainFeedServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TrainFeedServer.class);
  /** The name health checks use for the data plane service. */
  public static final String SERVICE_NAME = "trainfeed.v1.DataPlane";
  /**
   * Initial HTTP/2 flow-control window of each connection, in bytes (8 MiB): what clients may
   * send before the server acknowledges. Batches flow the other way, under the client's window
   * (the SDK's default is the same 8 MiB); gRPC's bandwidth-delay tuning may grow either.
   */
  public static final int FLOW_CONTROL_WINDOW = 8 << 20;

  private final ServerOptions options;
  private final LocalChunkStore store;
  private final ChunkCache cache;
  private final ExecutorService loaderPool;
  private final ExecutorService streamPool;
  private final ExecutorService grpcPool;
  private final PrometheusMeterRegistry registry;
  private final DataPlaneService service;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Server grpc;
  private final Server healthOnly;
  private final MetricsHttpServer metricsHttp;
  private final TransportSecurity security;
  private final ModelRegistry models;
  private final ScheduledExecutorService modelPoller;
  private boolean closed;

  private TrainFeedServer(ServerOptions o, SecurityOptions so, SynthOptions synth)
      throws IOException {
    this.options = o;
    // First, so that unreadable TLS or token files stop the start before anything is opened.
    this.security = TransportSecurity.start(so);
    this.store = new LocalChunkStore(o.dataDir());
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    ResumeTokenCodec tokens = new ResumeTokenCodec(ResumeKeyring.loadOrCreate(o.resumeKeyFile()));
    // The policy and the prefetcher share one view of every active stream's future.
    StreamDemand demand = new StreamDemand();
    // Models first: a --device that cannot be honoured stops the start before the cache file is
    // taken, and ONNX Runtime's native library loads before Chronicle's.
    this.modelPoller = Executors.newSingleThreadScheduledExecutor(daemon("trainfeed-models"));
    try {
      this.models = openModels(synth, registry, modelPoller);
    } catch (RuntimeException e) {
      modelPoller.shutdownNow();
      store.close();
      throw e;
    }
    this.cache = ChronicleChunkCache.builder()
        .file(o.cacheFile())
        .capacityBytes(o.cacheSizeBytes())
        .evictionPolicy(() -> new ClairvoyantEvictionPolicy(demand))
        .build();
    this.loaderPool = Executors.newFixedThreadPool(o.loaderThreads(), daemon("trainfeed-loader"));
    this.streamPool = Executors.newFixedThreadPool(o.streamThreads(), daemon("trainfeed-stream"));
    // gRPC callbacks are short; a bounded pool with a bounded queue keeps a flood from piling up,
    // and past 3/4 of the queue new calls get RESOURCE_EXHAUSTED instead of a reset stream.
    OverloadGuard grpcGuard = new OverloadGuard(64, 4096, 3072, daemon("trainfeed-grpc"));
    FunctionCounter.builder("trainfeed.calls.shed", grpcGuard, OverloadGuard::shedCalls)
        .description("new calls refused with RESOURCE_EXHAUSTED because the gRPC executor was "
            + "saturated").register(registry);
    this.grpcPool = grpcGuard.pool();
    ServerMetrics metrics = new ServerMetrics(registry);
    ChunkLoader loader = new ChunkLoader(store, cache, loaderPool, registry);
    ChunkPrefetcher prefetcher = new ChunkPrefetcher(loader, cache, demand, o.prefetchBytes(),
        System::nanoTime);
    ChunkSource source = (dataset, sequence) -> {
      ChunkPrefetcher.Feed feed = prefetcher.open(dataset, sequence, metrics::stalled);
      return new ChunkSource.Reader() {
        @Override
        public ChunkBytes chunk(int chunk) throws IOException {
          return feed.chunk(chunk);
        }

        @Override
        public void close() {
          feed.close();
        }
      };
    };
    this.service = new DataPlaneService(store, source, tokens, metrics, streamPool,
        new StreamLimits(o.maxBatchBytes(), o.maxStreams(),
            StreamLimits.DEFAULTS.onReadyThresholdBytes()), models,
        AutoencoderAugmenters.from(models));
    NettyServerBuilder b = security.serverBuilder(new InetSocketAddress(o.bind(), o.port()))
        .executor(grpcGuard)
        .maxInboundMessageSize(o.maxInboundMessageBytes())
        .initialFlowControlWindow(FLOW_CONTROL_WINDOW)
        .intercept(new MetricCollectingServerInterceptor(registry))
        .addService(MalformedRequests.guard(DataPlaneBinding.bind(service)))
        .addService(health.getHealthService())
        .intercept(grpcGuard.interceptor()); // added last, so it runs first
    if (o.reflection()) {
      b.addService(ProtoReflectionServiceV1.newInstance());
    }
    this.grpc = b.build();
    this.healthOnly = o.healthPort() < 0 ? null
        : NettyServerBuilder.forAddress(new InetSocketAddress(o.bind(), o.healthPort()))
            .executor(grpcGuard)
            .addService(health.getHealthService())
            .build();
    // HealthStatusManager starts with "" SERVING; nothing may say so before every part is up.
    health.setStatus("", ServingStatus.NOT_SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.NOT_SERVING);
    MetricsHttpServer http = null;
    try {
      http = o.metricsPort() < 0 ? null
          : listen(() -> new MetricsHttpServer(o.bind(), o.metricsPort(), registry),
              o.metricsPort(), "--metrics-port");
      listen(grpc::start, o.port(), "--port");
      if (healthOnly != null) {
        listen(healthOnly::start, o.healthPort(), "--health-port");
      }
    } catch (IOException | RuntimeException e) {
      grpc.shutdownNow();
      if (healthOnly != null) {
        healthOnly.shutdownNow();
      }
      if (http != null) {
        http.close();
      }
      this.metricsHttp = null;
      closeQuietly();
      throw e;
    }
    this.metricsHttp = http;
    // Store, cache, resume key and every port are ready: only now does health say SERVING.
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(SERVICE_NAME, ServingStatus.SERVING);
  }

  /** Something that binds a port. */
  private interface Binder<T> {
    T bind() throws IOException;
  }

  private <T> T listen(Binder<T> binder, int port, String flag) throws IOException {
    try {
      return binder.bind();
    } catch (IOException e) {
      throw new IOException("cannot listen on " + options.bind() + ":" + port + " ("
          + e.getMessage() + "); choose another " + flag, e);
    }
  }

  /**
   * Loads the models (a missing CUDA library under {@code --device cuda} stops the start with an
   * {@link IllegalStateException}) and polls their directory for changes.
   */
  private static ModelRegistry openModels(SynthOptions synth, PrometheusMeterRegistry registry,
      ScheduledExecutorService poller) {
    if (synth.modelsDir() == null) {
      log.info("no model directory (--models): Synthesize and synthetic mixes are off");
      return ModelRegistry.none();
    }
    SessionFactory sessions = new SessionFactory(synth.device(), CudaLibraries.probe(),
        synth.intraOpThreads(), log::warn);
    ModelRegistry m = new ModelRegistry(synth.modelsDir(), sessions, synth.runSize(),
        synth.batchDelay(), new SynthMetrics(registry));
    m.refresh();
    m.startPolling(poller, synth.pollInterval());
    log.info("models from {} (--device {}): {}", synth.modelsDir(), synth.device(),
        m.list().stream().map(x -> x.name() + "@" + x.provider()).toList());
    return m;
  }

  /** Starts a plaintext server without tokens, with the default synthesis options. */
  public static TrainFeedServer start(ServerOptions options) throws IOException {
    return start(options, SecurityOptions.DEFAULTS, SynthOptions.defaults());
  }

  /** Starts a server with the transport security and tokens of {@code security}. */
  public static TrainFeedServer start(ServerOptions options, SecurityOptions security)
      throws IOException {
    return start(options, security, SynthOptions.defaults());
  }

  /** Starts a plaintext server without tokens, with models per {@code synth}. */
  public static TrainFeedServer start(ServerOptions options, SynthOptions synth)
      throws IOException {
    return start(options, SecurityOptions.DEFAULTS, synth);
  }

  /**
   * Starts a server with {@code options}, the transport security, tokens and connection limits of
   * {@code security}, and models per {@code synth}; it serves once this returns.
   */
  public static TrainFeedServer start(ServerOptions options, SecurityOptions security,
      SynthOptions synth) throws IOException {
    TrainFeedServer s = new TrainFeedServer(options, security, synth);
    log.info("TrainFeed serving on port {} (metrics port {}), data {}, cache {} at {}", s.port(),
        s.metricsPort(), options.dataDir(), Sizes.human(options.cacheSizeBytes()),
        options.cacheFile());
    return s;
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** The gRPC port actually bound. */
  public int port() {
    return grpc.getPort();
  }

  /** The metrics port actually bound, or -1 when off. */
  public int metricsPort() {
    return metricsHttp == null ? -1 : metricsHttp.port();
  }

  /** The separate health-only port actually bound, or -1 when off. */
  public int healthPort() {
    return healthOnly == null ? -1 : healthOnly.getPort();
  }

  /** The generative models this server runs. */
  public ModelRegistry models() {
    return models;
  }

  /** The meter registry (for tests and embedding). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Blocks until the server has stopped. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /**
   * Stops gracefully: health turns NOT_SERVING, new streams are refused with UNAVAILABLE, running
   * streams get {@link ServerOptions#shutdownGrace()} to finish and are then ended with
   * UNAVAILABLE so that clients resume elsewhere; the cache file is closed cleanly.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    health.enterTerminalState();
    service.startDraining();
    long deadline = System.nanoTime() + options.shutdownGrace().toNanos();
    while (service.activeStreams() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    service.abortStreams();
    if (healthOnly != null) {
      healthOnly.shutdownNow();
    }
    grpc.shutdown();
    try {
      if (!grpc.awaitTermination(5, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      grpc.shutdownNow();
    }
    closeQuietly();
    log.info("TrainFeed stopped");
  }

  private void closeQuietly() {
    if (metricsHttp != null) {
      metricsHttp.close();
    }
    if (modelPoller != null) {
      modelPoller.shutdownNow();
    }
    if (models != null) {
      models.close();
    }
    DataPlaneService.runAbandoned(streamPool.shutdownNow());
    loaderPool.shutdownNow();
    grpcPool.shutdownNow();
    try {
      loaderPool.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    cache.close();
    try {
      store.close();
    } catch (IOException e) {
      log.warn("closing the store", e);
    }
    registry.close();
    security.close();
  }
}
