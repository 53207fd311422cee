package dev.trainfeed.server.synth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Synthesis meters. Prometheus shows {@code trainfeed_synth_samples_total{model,provider}},
 * the {@code trainfeed_synth_batch_seconds} histogram (one observation per generated batch, same
 * tags) and {@code trainfeed_synth_models} (models loaded). Tags are bounded: model names come
 * from the model directory, providers are {@code cpu} or {@code cuda:N}.
 */
public final class SynthMetrics {
  private final MeterRegistry registry;
  private final AtomicInteger models = new AtomicInteger();

  /** Registers the meters in {@code registry}. */
  public SynthMetrics(MeterRegistry registry) {
    this.registry = registry;
    Gauge.builder("trainfeed.synth.models", models, AtomicInteger::get)
        .description("Generative models loaded").register(registry);
  }

  /** The meters of one model on one provider. */
  public ModelMeters forModel(String model, String provider) {
    Counter samples = Counter.builder("trainfeed.synth.samples")
        .description("Synthetic samples generated")
        .tag("model", model).tag("provider", provider)
        .register(registry);
    Timer batch = Timer.builder("trainfeed.synth.batch")
        .description("Time to generate one batch of synthetic samples")
        .tag("model", model).tag("provider", provider)
        .publishPercentileHistogram()
        .register(registry);
    return new ModelMeters(samples, batch);
  }

  void modelsLoaded(int n) {
    models.set(n);
  }

  /** Counts samples and batch latency of one model. */
  public static final class ModelMeters {
    private final Counter samples;
    private final Timer batch;

    ModelMeters(Counter samples, Timer batch) {
      this.samples = samples;
      this.batch = batch;
    }

    /** One batch of {@code count} samples took {@code nanos}. */
    public void generated(int count, long nanos) {
      samples.increment(count);
      batch.record(nanos, TimeUnit.NANOSECONDS);
    }
  }
}
