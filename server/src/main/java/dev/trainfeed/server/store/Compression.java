package dev.trainfeed.server.store;

import java.util.Locale;

/** How a chunk file stores its decoded bytes at rest. */
public enum Compression {
  /** The decoded columnar bytes as they are. */
  NONE,
  /** The decoded columnar bytes as one zstd frame. */
  ZSTD;

  /** Name written in {@link ChunkInfo#compression()}: {@code "none"} or {@code "zstd"}. */
  public String manifestName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code "none"} or {@code "zstd"} (case-insensitive). */
  public static Compression fromManifestName(String name) {
    for (Compression c : values()) {
      if (c.manifestName().equalsIgnoreCase(name)) {
        return c;
      }
    }
    throw new IllegalArgumentException("unknown compression '" + name + "'; use none or zstd");
  }
}
