package dev.trainfeed.server.metrics;

import dev.trainfeed.server.store.DatasetManifest;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.BaseUnits;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * {@value #NAME} (Prometheus {@code trainfeed_dataset_size_bytes}, tags {@code dataset} and
 * {@code version}): the decoded bytes of every dataset version that has at least one stream open,
 * so that dashboards can set the cache hit ratio beside its ceiling,
 * {@code trainfeed_cache_capacity_bytes / sum(trainfeed_dataset_size_bytes)}. A gauge appears
 * when the first stream of a version opens and is removed when its last stream ends, so the tag
 * values are bounded by the versions on disk that are being read. Thread-safe.
 */
public final class ActiveDatasetGauges {
  /** Micrometer name of the gauge. */
  public static final String NAME = "trainfeed.dataset.size";

  private final MeterRegistry registry;
  private final Map<String, Entry> active = new HashMap<>();

  private static final class Entry {
    final Gauge gauge;
    int streams;

    Entry(Gauge gauge) {
      this.gauge = gauge;
    }
  }

  /** Creates the gauges' owner; nothing is registered until a stream opens. */
  public ActiveDatasetGauges(MeterRegistry registry) {
    this.registry = Objects.requireNonNull(registry, "registry");
  }

  /** A stream of {@code dataset} opened. */
  public synchronized void opened(DatasetManifest dataset) {
    active.computeIfAbsent(dataset.version(), v -> new Entry(
        Gauge.builder(NAME, dataset::sizeBytes)
            .description("Decoded bytes of each dataset version with streams open (the working "
                + "set the chunk cache competes for)")
            .baseUnit(BaseUnits.BYTES)
            .tag("dataset", dataset.name())
            .tag("version", dataset.version())
            .strongReference(true)
            .register(registry))).streams++;
  }

  /** A stream of {@code dataset} ended; the gauge goes when its last stream ends. */
  public synchronized void closed(DatasetManifest dataset) {
    Entry e = active.get(dataset.version());
    if (e != null && --e.streams == 0) {
      active.remove(dataset.version());
      registry.remove(e.gauge);
    }
  }
}
