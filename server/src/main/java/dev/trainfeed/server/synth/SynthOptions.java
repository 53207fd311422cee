package dev.trainfeed.server.synth;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How a server runs generative models.
 *
 * @param modelsDir the model directory ({@code --models}); null for none
 * @param device the execution provider choice ({@code --device}, default {@code auto})
 * @param runSize rows per fixed-size session run ({@code --synth-run-size}, default 64)
 * @param batchDelay how long a run that is neither full nor as busy as recent runs waits for more
 *     requests ({@code --synth-batch-delay}, default 2 ms, 0 to 1 s; 0 never waits)
 * @param intraOpThreads ONNX Runtime threads per session (default: available processors)
 * @param pollInterval how often the model directory is scanned for changes (default 2 s)
 */
public record SynthOptions(Path modelsDir, Device device, int runSize, Duration batchDelay,
    int intraOpThreads, Duration pollInterval) {

  /** Rows per run unless configured. */
  public static final int DEFAULT_RUN_SIZE = 64;
  /** How long a run waits for concurrent callers unless configured. */
  public static final Duration DEFAULT_BATCH_DELAY = Duration.ofMillis(2);
  /** Scan interval of the model directory unless configured. */
  public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);

  /** Validates the options with messages that name the flag to change. */
  public SynthOptions {
    if (device == null) {
      throw new IllegalArgumentException("--device is required (auto, cpu, cuda or cuda:N)");
    }
    if (runSize < 1 || runSize > 65536) {
      throw new IllegalArgumentException("--synth-run-size must be 1..65536, got " + runSize);
    }
    if (batchDelay == null || batchDelay.isNegative()
        || batchDelay.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("--synth-batch-delay must be 0 to 1s (for example 2ms), "
          + "got " + batchDelay);
    }
    if (intraOpThreads < 1 || intraOpThreads > 1024) {
      throw new IllegalArgumentException("--synth-threads must be 1..1024, got "
          + intraOpThreads);
    }
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("model poll interval must be positive");
    }
  }

  /**
   * The defaults: the bundled {@code models/} under {@code -Dtrainfeed.home} (set by the launcher)
   * when it exists, else no models; {@code --device auto}.
   */
  public static SynthOptions defaults() {
    return new SynthOptions(bundledModels(), Device.AUTO, DEFAULT_RUN_SIZE, DEFAULT_BATCH_DELAY,
        Runtime.getRuntime().availableProcessors(), DEFAULT_POLL);
  }

  /** {@code $trainfeed.home/models} when that folder exists, else null. */
  public static Path bundledModels() {
    String home = System.getProperty("trainfeed.home");
    if (home == null) {
      return null;
    }
    Path p = Path.of(home).resolve("models").toAbsolutePath();
    return Files.isDirectory(p) ? p : null;
  }

  /** These options with another model directory. */
  public SynthOptions withModelsDir(Path dir) {
    return new SynthOptions(dir, device, runSize, batchDelay, intraOpThreads, pollInterval);
  }

  /** These options with another device. */
  public SynthOptions withDevice(Device d) {
    return new SynthOptions(modelsDir, d, runSize, batchDelay, intraOpThreads, pollInterval);
  }
}
