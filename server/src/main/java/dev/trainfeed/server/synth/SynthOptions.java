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
 * @param intraOpThreads ONNX Runtime threads per session (default: available processors)
 * @param pollInterval how often the model directory is scanned for changes (default 2 s)
 */
public record SynthOptions(Path modelsDir, Device device, int runSize, int intraOpThreads,
    Duration pollInterval) {

  /** Rows per run unless configured. */
  public static final int DEFAULT_RUN_SIZE = 64;
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
    return new SynthOptions(bundledModels(), Device.AUTO, DEFAULT_RUN_SIZE,
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
    return new SynthOptions(dir, device, runSize, intraOpThreads, pollInterval);
  }

  /** These options with another device. */
  public SynthOptions withDevice(Device d) {
    return new SynthOptions(modelsDir, d, runSize, intraOpThreads, pollInterval);
  }
}
