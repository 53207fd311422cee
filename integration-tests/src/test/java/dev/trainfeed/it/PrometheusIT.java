package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.TrainFeedClient;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus ({@code /usr/bin/prometheus}, Debian's {@code prometheus} package, which
 * {@code .ci/run} installs) scrapes a real server process every second while SDK streams run;
 * the batch rate and the cache hit ratio are read back through Prometheus's HTTP API, and every
 * query of the Grafana dashboard runs there without error.
 */
class PrometheusIT {
  private static final Path PROMETHEUS = Path.of("/usr/bin/prometheus");
  private static final int N = 4_000;
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();
  @TempDir Path tmp;

  @Test
  void prometheusScrapesRatesAndHitRatioUnderLoad() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(PROMETHEUS), "needs " + PROMETHEUS
        + " (apt-get install prometheus; .ci/run installs it)");
    Path data = tmp.resolve("data");
    TestData.ingest(data, "ids", N, "1k");
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService load = Executors.newFixedThreadPool(3);
    Process prometheus = null;
    try (ServerProcess server = ServerProcess.start(data, 0, "--cache-size", "1m")) {
      int promPort = freePort();
      Path config = tmp.resolve("prometheus.yml");
      Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
          + "scrape_configs:\n  - job_name: trainfeed\n    metrics_path: /metrics\n"
          + "    static_configs:\n      - targets: ['127.0.0.1:" + server.metricsPort() + "']\n");
      prometheus = new ProcessBuilder(PROMETHEUS.toString(), "--config.file=" + config,
          "--storage.tsdb.path=" + tmp.resolve("tsdb"),
          "--web.listen-address=127.0.0.1:" + promPort, "--log.level=warn")
          .redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile())
          .start();
      String api = "http://127.0.0.1:" + promPort;

      List<Future<?>> clients = new ArrayList<>();
      for (int rank = 0; rank < 3; rank++) {
        int r = rank;
        clients.add(load.submit(() -> {
          try (TrainFeedClient client = TrainFeedClient.builder().target(server.target())
              .build()) {
            for (int epoch = 0; !stop.get(); epoch++) {
              try (BatchIterator it = client.batches("ids").batchSize(50).shuffle(9)
                  .epoch(epoch).shard(r, 3).prefetch(2).open()) {
                while (it.hasNext() && !stop.get()) {
                  TestData.assertBytes(it.next());
                }
              }
            }
          }
          return null;
        }));
      }

      double rate = awaitPositive(api, "sum(rate(trainfeed_batches_sent_total[10s]))");
      double hitRatio = awaitValue(api, "sum(rate(trainfeed_cache_hits_total[10s])) / "
          + "(sum(rate(trainfeed_cache_hits_total[10s])) "
          + "+ sum(rate(trainfeed_cache_misses_total[10s])))");
      double ceiling = awaitValue(api, "clamp_max(sum(trainfeed_cache_capacity_bytes) "
          + "/ sum(trainfeed_dataset_size_bytes), 1)");
      System.out.printf("prometheus: batches/s=%.1f hit_ratio=%.3f ceiling=%.3f%n", rate,
          hitRatio, ceiling);
      assertThat(rate).isPositive();
      assertThat(hitRatio).isBetween(0.0, 1.0);
      // 1 MiB of cache over a dataset of 4000 × 24 bytes (~94 KiB): the ceiling is 1.
      assertThat(ceiling).isEqualTo(1.0);
      assertThat(awaitValue(api, "up{job=\"trainfeed\"}")).isEqualTo(1.0);
      assertThat(awaitValue(api, "sum(jvm_buffer_memory_used_bytes{id=\"direct\"})"))
          .isPositive();

      // Every dashboard query is valid PromQL that Prometheus evaluates.
      JsonNode dashboard = JSON.readTree(Path.of(System.getProperty("trainfeed.repo.root"),
          "k8s", "grafana", "trainfeed-dashboard.json").toFile());
      for (JsonNode panel : dashboard.path("panels")) {
        for (JsonNode target : panel.path("targets")) {
          String expr = target.path("expr").asText().replace("$__rate_interval", "10s")
              .replace("$namespace", ".*").replace("$pod", ".*");
          JsonNode r = query(api, expr);
          assertThat(r.path("status").asText()).as(expr + " → " + r).isEqualTo("success");
        }
      }
      stop.set(true);
      for (Future<?> f : clients) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      stop.set(true);
      load.shutdownNow();
      if (prometheus != null) {
        prometheus.destroy();
        prometheus.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private JsonNode query(String api, String expr) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(api
        + "/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8)))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    return JSON.readTree(r.body());
  }

  /** Polls {@code expr} (Prometheus may still be starting) until it has a numeric value. */
  private double awaitValue(String api, String expr) throws Exception {
    return await(api, expr, false);
  }

  private double awaitPositive(String api, String expr) throws Exception {
    return await(api, expr, true);
  }

  private double await(String api, String expr, boolean positive) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        JsonNode r = query(api, expr);
        last = r.toString();
        JsonNode result = r.path("data").path("result");
        if (result.size() == 1) {
          double v = Double.parseDouble(result.get(0).path("value").get(1).asText());
          if (!Double.isNaN(v) && (!positive || v > 0)) {
            return v;
          }
        }
      } catch (java.io.IOException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new AssertionError("Prometheus gave no " + (positive ? "positive " : "") + "value for "
        + expr + "; last answer: " + last + "; log:\n"
        + Files.readString(tmp.resolve("prometheus.log")));
  }
}
