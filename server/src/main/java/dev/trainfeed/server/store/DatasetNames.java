package dev.trainfeed.server.store;

import java.util.regex.Pattern;

/** Rules for dataset names and {@code NAME@VERSION} references; names become paths. */
public final class DatasetNames {
  /** A valid dataset name. */
  public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** A valid version string (lower-case hex content hash). */
  public static final Pattern VERSION = Pattern.compile("[0-9a-f]{8,64}");

  private DatasetNames() {}

  /** Throws {@link IllegalArgumentException} saying what is wrong unless {@code name} is valid. */
  public static String checkName(String name) {
    if (name == null || !PATTERN.matcher(name).matches() || name.contains("..")) {
      throw new IllegalArgumentException("dataset name '" + name + "' is invalid: use 1 to 128 "
          + "characters from A-Z a-z 0-9 . _ -, starting with a letter or digit");
    }
    return name;
  }

  /**
   * Splits {@code NAME} or {@code NAME@VERSION}; the version part is null when absent. Throws
   * {@link IllegalArgumentException} for a bad name or version.
   */
  public static String[] parseRef(String ref) {
    if (ref == null || ref.isEmpty()) {
      throw new IllegalArgumentException("dataset is empty: name a dataset, NAME or NAME@VERSION");
    }
    int at = ref.indexOf('@');
    if (at < 0) {
      return new String[] {checkName(ref), null};
    }
    String name = checkName(ref.substring(0, at));
    String version = ref.substring(at + 1);
    if (!VERSION.matcher(version).matches()) {
      throw new IllegalArgumentException("dataset version '" + version + "' is invalid: a version "
          + "is the lower-case hex string that `trainfeed datasets` shows");
    }
    return new String[] {name, version};
  }
}
