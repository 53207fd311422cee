package dev.trainfeed.server.cli;

import dev.trainfeed.server.TrainFeedServer;
import dev.trainfeed.server.config.ServerOptions;
import dev.trainfeed.server.synth.Device;
import dev.trainfeed.server.synth.SynthOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code trainfeed serve}: runs the data plane until SIGTERM or SIGINT. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the datasets in a data directory over gRPC.")
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DataDirOptions dir;

  @Option(names = "--bind", defaultValue = "0.0.0.0",
      description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--port", defaultValue = "7070",
      description = "gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--metrics-port", defaultValue = "9464",
      description = "Prometheus /metrics port; 0 picks a free one, -1 turns it off "
          + "(default: ${DEFAULT-VALUE}).")
  int metricsPort;

  @Option(names = "--cache-size", defaultValue = "512m", converter = SizeConverter.class,
      description = "Bound of the off-heap chunk cache, such as 512m or 4g "
          + "(default: ${DEFAULT-VALUE}).")
  long cacheSize;

  @Option(names = "--cache-file", paramLabel = "FILE",
      description = "Chronicle Map cache file (default: DATA_DIR/cache/chunks.cmap).")
  Path cacheFile;

  @Option(names = "--resume-key-file", paramLabel = "FILE",
      description = "Key file for resume tokens, created with mode 0600 if missing; share it "
          + "between replicas (default: DATA_DIR/resume.key).")
  Path resumeKeyFile;

  @Option(names = "--max-batch-bytes", defaultValue = "64m", converter = SizeConverter.class,
      description = "Largest batch payload; larger requests get RESOURCE_EXHAUSTED "
          + "(default: ${DEFAULT-VALUE}).")
  long maxBatchBytes;

  @Option(names = "--max-streams", defaultValue = "256",
      description = "Most concurrent batch streams (default: ${DEFAULT-VALUE}).")
  int maxStreams;

  @Option(names = "--loader-threads", defaultValue = "4",
      description = "Threads loading chunks from the store (default: ${DEFAULT-VALUE}).")
  int loaderThreads;

  @Option(names = "--prefetch-bytes", defaultValue = "64m", converter = SizeConverter.class,
      description = "Decoded chunk bytes each stream may have loading or loaded ahead of it, "
          + "in the order it will visit them; at least one chunk (default: ${DEFAULT-VALUE}).")
  long prefetchBytes;

  @Option(names = "--stream-threads", defaultValue = "0",
      description = "Threads assembling batches; 0 means max(4, 2 x cores) "
          + "(default: ${DEFAULT-VALUE}).")
  int streamThreads;

  @Option(names = "--shutdown-grace", defaultValue = "30s", converter = DurationConverter.class,
      description = "Time running streams get to finish after SIGTERM (default: ${DEFAULT-VALUE}).")
  Duration shutdownGrace;

  @Option(names = "--reflection", defaultValue = "true", arity = "0..1",
      description = "Serve gRPC reflection (default: ${DEFAULT-VALUE}).")
  boolean reflection;

  @Option(names = "--max-inbound-message-bytes", defaultValue = "4m",
      converter = SizeConverter.class,
      description = "Largest request message (default: ${DEFAULT-VALUE}).")
  long maxInboundMessageBytes;

  @Mixin SecurityFlags security;

  @Option(names = "--health-port", defaultValue = "-1",
      description = "Extra plaintext port serving only grpc.health.v1.Health, for probes that "
          + "cannot use TLS (Kubernetes gRPC probes); 0 picks a free one, -1 turns it off "
          + "(default: ${DEFAULT-VALUE}).")
  int healthPort;

  @Option(names = "--models", paramLabel = "DIR",
      description = "Model directory, one folder per ONNX model, watched for changes "
          + "(default: the bundled models/ of the installation, none if absent).")
  Path models;

  @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda[:N]",
      description = "Execution provider for models: auto uses CUDA where CUDA 12 and cuDNN 9 "
          + "resolve and CPU otherwise (default: ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--synth-run-size", defaultValue = "64",
      description = "Rows per ONNX Runtime run; requests are packed and padded to it "
          + "(default: ${DEFAULT-VALUE}).")
  int synthRunSize;

  @Option(names = "--synth-batch-delay", defaultValue = "2ms", converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "How long a run that is neither full nor holds as many requests as recent "
          + "runs waits for concurrent callers, 0 to 1s; a lone caller never waits "
          + "(default: ${DEFAULT-VALUE}).")
  Duration synthBatchDelay;

  @Option(names = "--synth-threads", defaultValue = "0",
      description = "ONNX Runtime intra-op threads per model; 0 means all cores "
          + "(default: ${DEFAULT-VALUE}).")
  int synthThreads;

  @Option(names = "--print-config",
      description = "Print the effective configuration and exit.")
  boolean printConfig;

  ServerOptions options() {
    Path data = dir.dataDir();
    int threads = streamThreads > 0 ? streamThreads
        : Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    return new ServerOptions(data, bind, port, metricsPort, cacheSize,
        cacheFile != null ? cacheFile : data.resolve("cache").resolve("chunks.cmap"),
        resumeKeyFile != null ? resumeKeyFile : data.resolve("resume.key"),
        maxBatchBytes, maxStreams, loaderThreads, threads, shutdownGrace, reflection,
        Math.toIntExact(Math.min(Integer.MAX_VALUE, maxInboundMessageBytes)), prefetchBytes,
        healthPort);
  }

  SynthOptions synthOptions() {
    SynthOptions d = SynthOptions.defaults();
    return new SynthOptions(models != null ? models.toAbsolutePath() : d.modelsDir(),
        Device.parse(device), synthRunSize, synthBatchDelay,
        synthThreads > 0 ? synthThreads : d.intraOpThreads(), d.pollInterval());
  }

  @Override
  public Integer call() throws Exception {
    ServerOptions o = options();
    security.options(); // validates the security flags before anything starts
    SynthOptions synth = synthOptions();
    if (printConfig) {
      for (OptionSpec opt : spec.options()) {
        if (opt.longestName().equals("--help") || opt.longestName().equals("--version")
            || opt.longestName().equals("--print-config") || opt.longestName().equals("--config")) {
          continue;
        }
        spec.commandLine().getOut().println(opt.longestName().substring(2) + ": "
            + effective(opt, o, synth));
      }
      return 0;
    }
    TrainFeedServer server = TrainFeedServer.start(o, security.options(), synth);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "trainfeed-shutdown"));
    // Machine-readable line for scripts and tests that start the server on port 0.
    System.out.println("trainfeed: listening port=" + server.port() + " metrics_port="
        + server.metricsPort() + " health_port=" + server.healthPort());
    System.out.flush();
    server.awaitTermination();
    stopped.await();
    return 0;
  }

  private static Object effective(OptionSpec opt, ServerOptions o, SynthOptions synth) {
    return switch (opt.longestName()) {
      case "--models" -> synth.modelsDir() == null ? "(none)" : synth.modelsDir();
      case "--synth-threads" -> synth.intraOpThreads();
      case "--data-dir" -> o.dataDir();
      case "--cache-file" -> o.cacheFile();
      case "--resume-key-file" -> o.resumeKeyFile();
      case "--stream-threads" -> o.streamThreads();
      default -> opt.getValue() instanceof Duration d ? d.toMillis() + "ms" : opt.getValue();
    };
  }
}
