package dev.trainfeed.server.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every command over a data directory shares: {@code --config} and {@code --data-dir}. */
final class DataDirOptions {
  @Option(names = "--config", paramLabel = "FILE",
      description = "YAML file of option values (keys like cache-size); flags and TRAINFEED_* "
          + "environment variables take precedence.")
  Path config;

  @Option(names = "--data-dir", defaultValue = "trainfeed-data", paramLabel = "DIR",
      description = "Data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  /** The data directory as an absolute path. */
  Path dataDir() {
    return dataDir.toAbsolutePath();
  }
}
