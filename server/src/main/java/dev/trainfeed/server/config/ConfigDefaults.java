package dev.trainfeed.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Supplies option values that the command line leaves out: first from the environment
 * ({@code --cache-size} ↔ {@code TRAINFEED_CACHE_SIZE}), then from the YAML file named by
 * {@code --config} or {@code TRAINFEED_CONFIG} (keys are option names without dashes, such as
 * {@code cache-size: 2g}), then the option's documented default. Flags beat both.
 */
public final class ConfigDefaults implements IDefaultValueProvider {
  private final Map<String, String> env;
  private final JsonNode file;

  /**
   * Creates the provider.
   *
   * @param env the environment (injected for tests)
   * @param configFile the YAML file, or null for none
   */
  public ConfigDefaults(Map<String, String> env, Path configFile) {
    this.env = env;
    this.file = configFile == null ? null : read(configFile);
  }

  private static JsonNode read(Path configFile) {
    try {
      JsonNode node = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(configFile));
      if (node != null && !node.isNull() && !node.isObject()) {
        throw new IllegalArgumentException("config file " + configFile + " must be a YAML mapping "
            + "of option names to values, as in `cache-size: 2g`");
      }
      return node;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read config file " + configFile + ": "
          + e.getMessage(), e);
    }
  }

  /** The environment variable for an option name: {@code --foo-bar} → {@code TRAINFEED_FOO_BAR}. */
  public static String envName(String longName) {
    return "TRAINFEED_" + longName.replaceFirst("^-+", "").replace('-', '_')
        .toUpperCase(Locale.ROOT);
  }

  /** The config-file key of an option: {@code --foo-bar} → {@code foo-bar}. */
  public static String fileKey(String longName) {
    return longName.replaceFirst("^-+", "");
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option) || option.longestName().equals("--config")) {
      return null;
    }
    String fromEnv = env.get(envName(option.longestName()));
    if (fromEnv != null) {
      return fromEnv;
    }
    if (file != null && file.has(fileKey(option.longestName()))) {
      JsonNode v = file.get(fileKey(option.longestName()));
      return v.isValueNode() ? v.asText() : v.toString();
    }
    return null;
  }
}
