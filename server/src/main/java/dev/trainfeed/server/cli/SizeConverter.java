package dev.trainfeed.server.cli;

import dev.trainfeed.server.config.Sizes;
import picocli.CommandLine.ITypeConverter;

/** Reads sizes such as {@code 512m} or {@code 4g} in options. */
final class SizeConverter implements ITypeConverter<Long> {
  @Override
  public Long convert(String value) {
    return Sizes.parseBytes(value);
  }
}
