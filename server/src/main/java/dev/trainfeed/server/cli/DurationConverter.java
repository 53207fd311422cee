package dev.trainfeed.server.cli;

import dev.trainfeed.server.config.Sizes;
import java.time.Duration;
import picocli.CommandLine.ITypeConverter;

/** Reads durations such as {@code 30s} or {@code 500ms} in options. */
final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return Sizes.parseDuration(value);
  }
}
