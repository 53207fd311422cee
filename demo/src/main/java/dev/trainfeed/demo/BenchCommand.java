package dev.trainfeed.demo;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.DatasetInfo;
import dev.trainfeed.client.Tensor;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.server.TrainFeedServer;
import dev.trainfeed.server.config.ServerOptions;
import dev.trainfeed.server.config.Sizes;
import dev.trainfeed.server.stream.StreamLimits;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code trainfeed bench}: reads a dataset through the Java SDK with K concurrent streams and
 * prints one JSON line of throughput, batch latency, data stall and cache figures; with {@code
 * --baseline} also the rate of a plain gRPC byte stream of the same message size, measured in the
 * same process right after. Without {@code --target} it ingests a synthetic dataset into a
 * temporary directory and starts a local server, so one command measures everything.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure streaming throughput through the Java SDK; prints one JSON line.")
final class BenchCommand implements Callable<Integer> {
  private static final String STALL = "trainfeed_stream_stall_seconds_total";
  private static final String HITS = "trainfeed_cache_hits_total";
  private static final String MISSES = "trainfeed_cache_misses_total";
  private static final String CAPACITY = "trainfeed_cache_capacity_bytes";

  @Spec
  CommandSpec spec;

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "Server to read from; when absent, an embedded server over a synthetic "
          + "dataset is started (--embedded).")
  String target;

  @Option(names = "--embedded", description = "Ingest a synthetic dataset into a temporary "
      + "directory and serve it locally (the default without --target).")
  boolean embedded;

  @Option(names = "--metrics", paramLabel = "HOST:PORT", description = "Server's Prometheus "
      + "endpoint; default: the embedded server's, or the target host on port 9464.")
  String metrics;

  @Option(names = "--dataset", defaultValue = "bench",
      description = "Dataset to read (default: ${DEFAULT-VALUE}).")
  String dataset;

  @Option(names = "--dataset-bytes", defaultValue = "256m", paramLabel = "BYTES",
      description = "Embedded: size of the synthetic dataset (default: ${DEFAULT-VALUE}).")
  String datasetBytes;

  @Option(names = "--sample-bytes", defaultValue = "3072", description = "Embedded: bytes of "
      + "the uint8 image field of one sample, besides an int64 label (default: ${DEFAULT-VALUE}).")
  int sampleBytes;

  @Option(names = "--chunk-size", defaultValue = "4m", paramLabel = "BYTES",
      description = "Embedded: chunk size at ingest (default: ${DEFAULT-VALUE}).")
  String chunkSize;

  @Option(names = "--cache-size", paramLabel = "BYTES", description = "Embedded: cache bound "
      + "(default: the dataset size plus a quarter plus 64m, so that the cache holds it all).")
  String cacheSize;

  @Option(names = "--epochs", defaultValue = "10",
      description = "Measured epochs per stream (default: ${DEFAULT-VALUE}).")
  int epochs;

  @Option(names = "--warmup-epochs", defaultValue = "1", description = "Epochs read before "
      + "measuring, to fill the cache and warm the JIT (default: ${DEFAULT-VALUE}).")
  int warmupEpochs;

  @Option(names = "--warmup-seconds", defaultValue = "20", description = "Keep warming up "
      + "(whole epochs) until this many seconds have passed; the JIT needs tens of seconds on a "
      + "small machine before the rates settle (default: ${DEFAULT-VALUE}).")
  double warmupSeconds;

  @Option(names = "--warmup-jit-percent", defaultValue = "3", description = "After that, keep "
      + "warming up while the JIT compiler still used more than this percent of one core over "
      + "the last few seconds of epochs: on a 2-core machine it keeps compiling for a minute "
      + "or more and takes CPU from the streams (default: ${DEFAULT-VALUE}).")
  double warmupJitPercent;

  @Option(names = "--warmup-max-seconds", defaultValue = "150", description = "Stop warming "
      + "up after this many seconds whatever the JIT does (default: ${DEFAULT-VALUE}).")
  double warmupMaxSeconds;

  @Option(names = "--streams", defaultValue = "1", description = "Concurrent streams K; stream "
      + "k reads rank k of world size K, so together they read each epoch once "
      + "(default: ${DEFAULT-VALUE}).")
  int streams;

  @Option(names = "--batch-size", defaultValue = "512",
      description = "Samples per batch (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--prefetch", defaultValue = "4",
      description = "Batches each stream requests ahead (default: ${DEFAULT-VALUE}).")
  int prefetch;

  @Option(names = "--no-shuffle", description = "Read in stored order instead of shuffled.")
  boolean noShuffle;

  @Option(names = "--fields", split = ",", paramLabel = "NAME",
      description = "Fields to read (default: all).")
  List<String> fields = new ArrayList<>();

  @Option(names = "--baseline", description = "Also measure a plain gRPC byte stream of the "
      + "same message size in this process and report vs_baseline.")
  boolean baseline;

  @Option(names = "--baseline-distinct-bytes", defaultValue = "128m", paramLabel = "BYTES",
      description = "Distinct bytes the baseline's messages cycle through, so that, like a "
          + "dataset, they are not all in the CPU's caches (default: ${DEFAULT-VALUE}). The "
          + "baseline that resends one message is reported too, as baseline_hot_bytes_per_s.")
  String baselineDistinctBytes;

  @Option(names = "--quiet", description = "No progress on stderr.")
  boolean quiet;

  private long baselineDistinct;

  @Override
  public Integer call() throws Exception {
    if (streams < 1 || epochs < 1 || warmupEpochs < 0 || warmupSeconds < 0 || batchSize < 1
        || prefetch < 1 || warmupJitPercent < 0 || warmupMaxSeconds < warmupSeconds) {
      throw new IllegalArgumentException("--streams, --epochs, --batch-size and --prefetch must "
          + "be at least 1, --warmup-epochs, --warmup-seconds and --warmup-jit-percent at least 0,"
          + " and --warmup-max-seconds at least --warmup-seconds");
    }
    baselineDistinct = Sizes.parseBytes(baselineDistinctBytes);
    if (target != null && embedded) {
      throw new IllegalArgumentException("use either --target or --embedded, not both");
    }
    if (target == null) {
      return embedded();
    }
    String metricsAt = metrics != null ? metrics
        : target.substring(0, target.lastIndexOf(':') + 1) + "9464";
    return measure(target, metricsAt);
  }

  private int embedded() throws Exception {
    Path dir = Files.createTempDirectory("trainfeed-bench");
    try {
      long bytes = Sizes.parseBytes(datasetBytes);
      progress("bench: ingesting a synthetic dataset of %s (%d-byte samples) into %s",
          Sizes.human(bytes), sampleBytes, dir);
      SyntheticDataset.create(dir, dataset, bytes, sampleBytes, Sizes.parseBytes(chunkSize), 1);
      long cache = cacheSize != null ? Sizes.parseBytes(cacheSize) : bytes + bytes / 4 + (64 << 20);
      ServerOptions options = new ServerOptions(dir, "127.0.0.1", 0, 0, cache,
          dir.resolve("cache").resolve("chunks.cmap"), dir.resolve("resume.key"),
          StreamLimits.DEFAULTS.maxBatchBytes(), 256, 2, Math.max(2, streams),
          Duration.ofSeconds(2), false, 4 << 20);
      try (TrainFeedServer server = TrainFeedServer.start(options)) {
        return measure("127.0.0.1:" + server.port(), "127.0.0.1:" + server.metricsPort());
      }
    } finally {
      deleteTree(dir);
    }
  }

  private int measure(String at, String metricsAt) throws Exception {
    try (TrainFeedClient client = TrainFeedClient.builder().target(at).build()) {
      DatasetInfo info = client.dataset(dataset);
      progress("bench: %s@%s, %d samples in %d chunks, %s decoded; %d stream(s), batch %d",
          info.name(), info.version(), info.numSamples(), info.numChunks(),
          Sizes.human(info.sizeBytes()), streams, batchSize);
      // A first scrape now, so that its one-time work (HTTP client, trust store) is done and
      // compiled during the warm-up rather than in the measured epochs.
      boolean scrapes = scrape(metricsAt) != null;
      // Warm-up: whole epochs, at least --warmup-epochs and --warmup-seconds, then until the JIT
      // is quiet (or --warmup-max-seconds), so that the cache is filled and the hot paths of both
      // ends are compiled before anything is measured. Each warm-up epoch is preceded by a scrape,
      // as the measured ones are: the scrape's HTTP client uses the same NIO classes as Netty, and
      // meeting it only right before the measured epochs made the JIT throw away and recompile
      // Netty's compiled I/O paths inside them (seen with JFR's jdk.Deoptimization).
      Totals warm = new Totals();
      long[] nextEpoch = {0};
      WarmUp warmUp = warmUp(warmupEpochs, warmupSeconds, () -> {
        progress("bench: warm-up epoch %d", nextEpoch[0]);
        if (scrapes) {
          scrape(metricsAt);
        }
        read(client, nextEpoch[0]++, 1, warm);
      });
      long firstEpoch = nextEpoch[0];
      JitWatch jit = new JitWatch();
      PrometheusScrape before = scrape(metricsAt);
      // Code run once just now (the scrape) is compiled in the background; let that finish
      // rather than share the cores with the first measured epochs.
      jit.awaitIdle();
      jit.restart();
      Totals totals = new Totals();
      long start = System.nanoTime();
      long cpu0 = processCpuNanos();
      // One epoch per read, as in the warm-up, so the measured code is the code the JIT compiled.
      long[][] perEpoch = new long[epochs][];
      for (int e = 0; e < epochs; e++) {
        perEpoch[e] = read(client, firstEpoch + e, 1, totals);
      }
      long[] latencies = Arrays.stream(perEpoch).flatMapToLong(Arrays::stream).toArray();
      double wall = (System.nanoTime() - start) / 1e9;
      double cpu = (processCpuNanos() - cpu0) / 1e9;
      double measuredJit = jit.fraction();
      PrometheusScrape after = scrape(metricsAt);

      Map<String, Object> json = new LinkedHashMap<>();
      json.put("samples_per_s", totals.samples.get() / wall);
      json.put("bytes_per_s", totals.bytes.get() / wall);
      Arrays.sort(latencies);
      json.put("p50_ms", percentile(latencies, 0.50) / 1e6);
      json.put("p99_ms", percentile(latencies, 0.99) / 1e6);
      json.put("stall_fraction", delta(before, after, STALL) / (wall * streams));
      double hits = delta(before, after, HITS);
      double misses = delta(before, after, MISSES);
      json.put("hit_ratio", hits + misses > 0 ? hits / (hits + misses) : Double.NaN);
      double capacity = after == null ? Double.NaN : after.value(CAPACITY);
      json.put("hit_ceiling", info.sizeBytes() == 0 ? 1.0
          : Math.min(1.0, capacity / info.sizeBytes()));
      long batches = totals.batches.get();
      json.put("batches", batches);
      json.put("batch_bytes", batches == 0 ? 0 : totals.bytes.get() / batches);
      json.put("seconds", wall);
      json.put("streams", streams);
      // CPU seconds of this process (client and any embedded server) per GB moved: unlike the
      // rates, it holds steady on a machine whose cores other work also uses.
      json.put("cpu_s_per_gb", cpu / (totals.bytes.get() / 1e9));
      json.put("warmup_seconds", warmUp.seconds());
      json.put("warmup_jit_fraction", warmUp.lastJitFraction());
      json.put("jit_fraction", measuredJit);
      if (baseline) {
        int messageBytes = (int) Math.max(1, totals.bytes.get() / Math.max(1, batches));
        progress("bench: baseline, %d plain gRPC messages of %d bytes", batches, messageBytes);
        // The baseline warms up by the same rule as the streams (runs of as many messages as
        // were measured, until the JIT is quiet), so neither side is measured while it compiles.
        long runMessages = Math.max(1, batches);
        warmUp(1, 0, () -> runBaseline(runMessages, messageBytes, baselineDistinct));
        jit.awaitIdle();
        jit.restart();
        long baselineCpu0 = processCpuNanos();
        ByteStreamBaseline.Result b = runBaseline(runMessages, messageBytes, baselineDistinct);
        double baselineCpu = (processCpuNanos() - baselineCpu0) / 1e9;
        double baselineJit = jit.fraction();
        ByteStreamBaseline.Result hot = runBaseline(runMessages, messageBytes, 0);
        json.put("baseline_bytes_per_s", b.bytesPerSecond());
        json.put("vs_baseline", (totals.bytes.get() / wall) / b.bytesPerSecond());
        json.put("baseline_cpu_s_per_gb", baselineCpu / (b.bytes() / 1e9));
        json.put("baseline_jit_fraction", baselineJit);
        json.put("baseline_hot_bytes_per_s", hot.bytesPerSecond());
        json.put("vs_baseline_hot", (totals.bytes.get() / wall) / hot.bytesPerSecond());
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println(toJson(json));
      out.flush();
      return 0;
    }
  }

  private ByteStreamBaseline.Result runBaseline(long messages, int messageBytes, long distinct)
      throws IOException, InterruptedException {
    return ByteStreamBaseline.run(messages, messageBytes, distinct, prefetch,
        TrainFeedClient.Builder.DEFAULT_FLOW_CONTROL_WINDOW,
        StreamLimits.DEFAULTS.onReadyThresholdBytes());
  }

  /** Counters of the measured phase, shared by the streams' threads. */
  private static final class Totals {
    final AtomicLong samples = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
  }

  /**
   * Reads {@code count} epochs from {@code firstEpoch} on K threads, one stream each; returns the
   * nanoseconds each {@code next()} waited when {@code totals} is given (the measured phase).
   */
  private long[] read(TrainFeedClient client, long firstEpoch, int count, Totals totals)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(streams, r -> {
      Thread t = new Thread(r, "bench-stream");
      t.setDaemon(true);
      return t;
    });
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "bench-progress");
      t.setDaemon(true);
      return t;
    });
    AtomicLong moved = new AtomicLong();
    long start = System.nanoTime();
    ticker.scheduleAtFixedRate(() -> progress("bench: %s read, %.0f MB/s",
        Sizes.human(moved.get()), moved.get() / ((System.nanoTime() - start) / 1e9) / 1e6),
        1, 1, TimeUnit.SECONDS);
    try {
      List<Future<long[]>> results = new ArrayList<>();
      for (int k = 0; k < streams; k++) {
        int rank = k;
        results.add(pool.submit(() -> readStream(client, rank, firstEpoch, count, totals, moved)));
      }
      List<long[]> all = new ArrayList<>();
      for (Future<long[]> f : results) {
        all.add(f.get());
      }
      return all.stream().flatMapToLong(Arrays::stream).toArray();
    } finally {
      ticker.shutdownNow();
      pool.shutdownNow();
    }
  }

  private long[] readStream(TrainFeedClient client, int rank, long firstEpoch, int count,
      Totals totals, AtomicLong moved) {
    var builder = client.batches(dataset).batchSize(batchSize).epoch(firstEpoch).epochs(count)
        .shard(rank, streams).prefetch(prefetch);
    if (!noShuffle) {
      builder.shuffle(1);
    }
    if (!fields.isEmpty()) {
      builder.fields(fields.toArray(new String[0]));
    }
    long[] waits = new long[1024];
    int n = 0;
    try (BatchIterator it = builder.open()) {
      while (true) {
        long t0 = System.nanoTime();
        if (!it.hasNext()) {
          break;
        }
        Batch b = it.next();
        long waited = System.nanoTime() - t0;
        long bytes = 0;
        for (Tensor t : b.tensors()) {
          bytes += t.asByteBuffer().remaining();
        }
        moved.addAndGet(bytes);
        if (totals != null) {
          totals.samples.addAndGet(b.size());
          totals.bytes.addAndGet(bytes);
          totals.batches.incrementAndGet();
          if (n == waits.length) {
            waits = Arrays.copyOf(waits, n * 2);
          }
          waits[n++] = waited;
        }
      }
    }
    return Arrays.copyOf(waits, n);
  }

  /** One warm-up step: an epoch of the streams, or a run of the baseline. */
  private interface Step {
    void run() throws Exception;
  }

  /** How a warm-up went. */
  private record WarmUp(double seconds, double lastJitFraction) {}

  /**
   * Runs {@code step} at least {@code minSteps} times and for at least {@code minSeconds}, then
   * until the JIT used at most {@code --warmup-jit-percent} of a core over the last {@link
   * JitWatch#WINDOW_SECONDS} of steps, or {@code --warmup-max-seconds} have passed.
   */
  private WarmUp warmUp(long minSteps, double minSeconds, Step step) throws Exception {
    JitWatch jit = new JitWatch();
    long start = System.nanoTime();
    long steps = 0;
    double lastJit = Double.NaN;
    boolean quiet = false;
    while (true) {
      if (jit.windowSeconds() >= JitWatch.WINDOW_SECONDS) {
        lastJit = jit.fraction();
        quiet = Double.isNaN(lastJit) || lastJit * 100 <= warmupJitPercent;
        progress("bench: JIT used %.1f%% of a core over the last %.1f s", lastJit * 100,
            jit.windowSeconds());
        jit.restart();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      if (steps >= minSteps && seconds >= minSeconds
          && (quiet || seconds >= warmupMaxSeconds)) {
        return new WarmUp(seconds, lastJit);
      }
      step.run();
      steps++;
    }
  }

  /**
   * How much of one core this JVM's JIT compilers used since {@link #restart}: the warm-up waits
   * for it to fall, and the report shows it for the measured epochs. NaN where the JVM does not
   * report compilation time.
   */
  static final class JitWatch {
    /** Seconds of epochs the warm-up looks at before judging the JIT quiet. */
    static final double WINDOW_SECONDS = 5;
    private final java.lang.management.CompilationMXBean compiler =
        java.lang.management.ManagementFactory.getCompilationMXBean();
    private long startNanos;
    private long startCompileMillis;

    JitWatch() {
      restart();
    }

    void restart() {
      startNanos = System.nanoTime();
      startCompileMillis = compileMillis();
    }

    double windowSeconds() {
      return (System.nanoTime() - startNanos) / 1e9;
    }

    /**
     * Waits until the compilers' total time stops growing for two polls 100 ms apart (at most
     * 5 s).
     */
    void awaitIdle() throws InterruptedException {
      long deadline = System.nanoTime() + 5_000_000_000L;
      long last = compileMillis();
      int still = 0;
      while (still < 2 && System.nanoTime() < deadline && last >= 0) {
        Thread.sleep(100);
        long now = compileMillis();
        still = now == last ? still + 1 : 0;
        last = now;
      }
    }

    double fraction() {
      long now = compileMillis();
      double seconds = windowSeconds();
      return now < 0 || seconds <= 0 ? Double.NaN : (now - startCompileMillis) / 1e3 / seconds;
    }

    private long compileMillis() {
      return compiler != null && compiler.isCompilationTimeMonitoringSupported()
          ? compiler.getTotalCompilationTime() : -1;
    }
  }

  private static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun
        ? sun.getProcessCpuTime() : -1;
  }

  private PrometheusScrape scrape(String hostPort) {
    try {
      return PrometheusScrape.of(hostPort);
    } catch (IOException e) {
      progress("bench: cannot read metrics at %s (%s); stall_fraction, hit_ratio and hit_ceiling "
          + "will be null; pass --metrics HOST:PORT", hostPort, e.getMessage());
      return null;
    }
  }

  private static double delta(PrometheusScrape before, PrometheusScrape after, String name) {
    if (before == null || after == null) {
      return Double.NaN;
    }
    double b = before.value(name);
    double a = after.value(name);
    // A counter not yet registered before the run started at zero.
    return (Double.isNaN(a) ? 0 : a) - (Double.isNaN(b) ? 0 : b);
  }

  private static double percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  /** One line of JSON; NaN (a figure that could not be measured) is written as null. */
  static String toJson(Map<String, Object> values) {
    StringBuilder s = new StringBuilder("{");
    for (Map.Entry<String, Object> e : values.entrySet()) {
      if (s.length() > 1) {
        s.append(", ");
      }
      s.append('"').append(e.getKey()).append("\": ");
      Object v = e.getValue();
      if (v instanceof Double d) {
        s.append(d.isNaN() || d.isInfinite() ? "null" : String.format(Locale.ROOT,
            Math.abs(d) >= 1000 ? "%.0f" : "%.4f", d));
      } else {
        s.append(v);
      }
    }
    return s.append('}').toString();
  }

  private void progress(String format, Object... args) {
    if (!quiet) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(String.format(Locale.ROOT, format, args));
      err.flush();
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }
}
