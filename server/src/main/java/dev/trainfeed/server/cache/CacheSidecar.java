package dev.trainfeed.server.cache;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * The JSON header kept beside a Chronicle cache file ({@code <file>.json}): the geometry the map
 * was created with, the library version that wrote it, and whether it was closed cleanly. When
 * closed cleanly it also records the map file's length and the CRC32C of the whole file, so a
 * truncated or overwritten file is caught before the map opens it: damage inside Chronicle's own
 * segment headers (locks, tiers) can hang or crash the map, so checking only the file's head or
 * only the pages is not enough. The check reads the file once at close and once at open
 * (CRC32C runs at memory speed; the disk sets the cost).
 */
record CacheSidecar(
    @JsonProperty("formatVersion") int formatVersion,
    @JsonProperty("pageSize") int pageSize,
    @JsonProperty("headerBytes") int headerBytes,
    @JsonProperty("capacityBytes") long capacityBytes,
    @JsonProperty("pageBudget") long pageBudget,
    @JsonProperty("entries") long entries,
    @JsonProperty("chronicleMapVersion") String chronicleMapVersion,
    @JsonProperty("cleanShutdown") boolean cleanShutdown,
    @JsonProperty("mapFileBytes") long mapFileBytes,
    @JsonProperty("mapHeadCrc32c") long mapHeadCrc32c) {

  /** 2: {@code mapHeadCrc32c} covers the whole file (format 1 covered its first MiB). */
  static final int FORMAT_VERSION = 2;

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Reads {@code path}; throws if it is missing or not a sidecar. */
  static CacheSidecar read(Path path) throws IOException {
    return JSON.readValue(Files.readAllBytes(path), CacheSidecar.class);
  }

  /** Writes atomically and durably: temporary file, fsync, rename, fsync of the directory. */
  void write(Path path) throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    byte[] json = JSON.writeValueAsBytes(this);
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(json);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
    }
    forceDirectory(path.toAbsolutePath().getParent());
  }

  static void forceDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      // Some platforms cannot open or fsync a directory; the rename is still atomic there.
    }
  }

  /** A copy with {@code cleanShutdown} and the file checks set. */
  CacheSidecar withShutdown(boolean clean, long fileBytes, long headCrc) {
    return new CacheSidecar(formatVersion, pageSize, headerBytes, capacityBytes, pageBudget,
        entries, chronicleMapVersion, clean, fileBytes, headCrc);
  }

  /**
   * Why a map written under {@code this} cannot be trusted by a cache configured as {@code
   * expected}, or null when it can.
   */
  String mismatch(CacheSidecar expected) {
    if (formatVersion != expected.formatVersion) {
      return "sidecar format " + formatVersion + " != " + expected.formatVersion;
    }
    if (pageSize != expected.pageSize || headerBytes != expected.headerBytes) {
      return "page size " + pageSize + "+" + headerBytes + " != " + expected.pageSize + "+"
          + expected.headerBytes;
    }
    if (capacityBytes != expected.capacityBytes || pageBudget != expected.pageBudget
        || entries != expected.entries) {
      return "capacity " + capacityBytes + " bytes / " + entries + " entries != "
          + expected.capacityBytes + " bytes / " + expected.entries + " entries";
    }
    if (!String.valueOf(chronicleMapVersion).equals(expected.chronicleMapVersion)) {
      return "written by chronicle-map " + chronicleMapVersion + ", running "
          + expected.chronicleMapVersion;
    }
    if (!cleanShutdown) {
      return "the previous server did not shut down cleanly";
    }
    return null;
  }

  /** CRC32C of every byte of {@code file}. */
  static long headCrc(Path file) throws IOException {
    CRC32C crc = new CRC32C();
    byte[] buf = new byte[1 << 20];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        crc.update(buf, 0, n);
      }
    }
    return crc.getValue();
  }
}
