package dev.trainfeed.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trainfeed.proto.v1.Batch;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code k8s/grafana/trainfeed-dashboard.json} queries only series that a real server exports,
 * and has a panel for each thing an operator watches.
 */
class GrafanaDashboardTest {
  static final Path DASHBOARD = Path.of("..", "k8s", "grafana", "trainfeed-dashboard.json");
  /** Series names in PromQL: every metric this project charts has one of these prefixes. */
  private static final Pattern METRIC =
      Pattern.compile("\\b(?:trainfeed|grpc|jvm|process|system)_[a-z0-9_]+");

  @TempDir Path tmp;

  /** Every PromQL expression of the dashboard: panel targets and variable queries. */
  static List<String> expressions(JsonNode dashboard) {
    List<String> out = new ArrayList<>();
    for (JsonNode panel : dashboard.path("panels")) {
      for (JsonNode target : panel.path("targets")) {
        out.add(target.path("expr").asText());
      }
    }
    for (JsonNode variable : dashboard.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        out.add(variable.path("query").asText());
      }
    }
    return out;
  }

  @Test
  void everyQueryNamesOnlyExportedSeries() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> exprs = expressions(dashboard);
    assertThat(exprs).hasSizeGreaterThan(10).allSatisfy(e -> assertThat(e).isNotBlank());
    Set<String> used = new TreeSet<>();
    for (String e : exprs) {
      Matcher m = METRIC.matcher(e);
      while (m.find()) {
        used.add(m.group());
      }
    }

    Set<String> exported;
    try (OpsFixture f = OpsFixture.start(tmp.resolve("data"), true)) {
      f.stream(0).forEachRemaining(b -> { });
      // The dataset gauge exists only while a stream is open.
      Iterator<Batch> held = f.stream(1);
      held.next();
      exported = f.scrape().lines().filter(l -> !l.startsWith("#") && !l.isBlank())
          .map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
      held.forEachRemaining(b -> { });
    }
    assertThat(exported).containsAll(used);
    assertThat(used).contains("trainfeed_batches_sent_total", "trainfeed_cache_hits_total",
        "trainfeed_cache_misses_total", "trainfeed_cache_capacity_bytes",
        "trainfeed_dataset_size_bytes", "trainfeed_stream_stall_seconds_total",
        "trainfeed_streams_active", "trainfeed_chunk_load_seconds_bucket",
        "jvm_memory_used_bytes", "jvm_buffer_memory_used_bytes",
        "grpc_server_processing_duration_seconds_count", "trainfeed_synth_samples_total",
        "trainfeed_synth_batch_seconds_bucket");
  }

  @Test
  void panelsCoverWhatOperatorsWatch() throws Exception {
    JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> titles = new ArrayList<>();
    dashboard.path("panels").forEach(p -> titles.add(p.path("title").asText()));
    assertThat(String.join("\n", titles)).contains("Throughput", "hit ratio", "ceiling",
        "Data stall", "streams", "Chunk load latency", "heap", "direct",
        "Synthesis rate by provider");
    dashboard.path("panels").forEach(p -> {
      assertThat(p.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
      assertThat(p.path("description").asText()).as(p.path("title").asText()).isNotBlank();
    });
  }
}
