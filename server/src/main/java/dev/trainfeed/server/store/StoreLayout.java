package dev.trainfeed.server.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The on-disk layout of a local data directory and the file operations that keep it consistent:
 *
 * <pre>
 * DATA_DIR/datasets/NAME/CURRENT                 current version, replaced by atomic rename
 * DATA_DIR/datasets/NAME/VERSION/manifest.json   immutable once the directory exists
 * DATA_DIR/datasets/NAME/VERSION/chunk-000000.tfc …
 * DATA_DIR/tmp/ingest-RANDOM/ + ingest-RANDOM.lock   an ingest in progress (lock held while alive)
 * DATA_DIR/tmp/delete-RANDOM/                    a deletion in progress
 * </pre>
 */
final class StoreLayout {
  static final String MANIFEST = "manifest.json";
  static final String CURRENT = "CURRENT";
  static final String INGEST_PREFIX = "ingest-";
  static final String DELETE_PREFIX = "delete-";
  static final String LOCK_SUFFIX = ".lock";

  static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private static final Logger log = LoggerFactory.getLogger(StoreLayout.class);

  private final Path dataDir;

  StoreLayout(Path dataDir) throws IOException {
    this.dataDir = dataDir.toAbsolutePath().normalize();
    Files.createDirectories(datasets());
    Files.createDirectories(tmp());
  }

  Path dataDir() {
    return dataDir;
  }

  Path datasets() {
    return dataDir.resolve("datasets");
  }

  Path tmp() {
    return dataDir.resolve("tmp");
  }

  Path datasetDir(String name) {
    return datasets().resolve(DatasetNames.checkName(name));
  }

  Path versionDir(String name, String version) {
    return datasetDir(name).resolve(version);
  }

  static String chunkFileName(int index) {
    // Locale.ROOT: under a default locale such as ar-EG, %d writes non-ASCII digits.
    return String.format(Locale.ROOT, "chunk-%06d.tfc", index);
  }

  /** A fresh random name under {@code tmp/} with the given prefix. */
  Path newTmpPath(String prefix) {
    byte[] random = new byte[8];
    ThreadLocalRandom.current().nextBytes(random);
    return tmp().resolve(prefix + HexFormat.of().formatHex(random));
  }

  /** The version CURRENT names, or null when the dataset has no CURRENT (yet). */
  String readCurrent(String name) throws IOException {
    Path file = datasetDir(name).resolve(CURRENT);
    String version;
    try {
      version = Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return null;
    }
    if (!DatasetNames.VERSION.matcher(version).matches()) {
      throw new IOException(file + " holds '" + version + "', not a dataset version");
    }
    return version;
  }

  /** Points CURRENT of {@code name} at {@code version}: temp file, fsync, atomic rename. */
  void writeCurrent(String name, String version) throws IOException {
    Path dir = datasetDir(name);
    Path tmpFile = dir.resolve(CURRENT + ".tmp-" + Long.toHexString(
        ThreadLocalRandom.current().nextLong()));
    try {
      writeDurably(tmpFile, (version + "\n").getBytes(StandardCharsets.US_ASCII));
      Files.move(tmpFile, dir.resolve(CURRENT), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmpFile);
    }
    fsyncDir(dir);
  }

  static DatasetManifest readManifest(Path versionDir) throws IOException {
    return JSON.readValue(versionDir.resolve(MANIFEST).toFile(), DatasetManifest.class);
  }

  /** Writes {@code bytes} to a new file and forces them to disk before returning. */
  static void writeDurably(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      ch.force(true);
    }
  }

  /** Forces a directory's entries to disk so a rename into or out of it survives a crash. */
  static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms cannot open directories; the rename is still atomic, just less durable.
      log.debug("cannot fsync directory {}: {}", dir, e.toString());
    }
  }

  /**
   * Removes {@code dir} so that no reader ever sees it half deleted: first an atomic rename into
   * {@code tmp/}, then a recursive delete there.
   */
  void deleteAtomically(Path dir) throws IOException {
    Path target = newTmpPath(DELETE_PREFIX);
    Files.move(dir, target, StandardCopyOption.ATOMIC_MOVE);
    fsyncDir(dir.getParent());
    deleteRecursively(target);
  }

  /**
   * Removes what crashed ingests and deletions left in {@code tmp/}. An ingest directory is removed
   * only when its lock file is absent or can be locked, so a live ingest in another process or
   * thread is never disturbed.
   */
  void cleanStaleTmp() throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp())) {
      for (Path p : entries) {
        String n = p.getFileName().toString();
        try {
          if (n.startsWith(DELETE_PREFIX)) {
            deleteRecursively(p);
          } else if (n.startsWith(INGEST_PREFIX) && !n.endsWith(LOCK_SUFFIX)) {
            cleanIngest(p);
          } else if (n.startsWith(INGEST_PREFIX)) {
            Path dir = tmp().resolve(n.substring(0, n.length() - LOCK_SUFFIX.length()));
            if (!Files.exists(dir)) {
              cleanIngest(dir);
            }
          }
        } catch (IOException e) {
          log.warn("cannot remove stale {}: {}", p, e.toString());
        }
      }
    }
  }

  private void cleanIngest(Path dir) throws IOException {
    Path lockFile = dir.resolveSibling(dir.getFileName() + LOCK_SUFFIX);
    if (!Files.exists(lockFile)) {
      // A writer creates and locks its lock file before its directory, so this one is orphaned.
      deleteRecursively(dir);
      return;
    }
    try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
      FileLock lock = ch.tryLock();
      if (lock == null) {
        return;
      }
      try {
        log.info("removing stale ingest directory {}", dir);
        deleteRecursively(dir);
        Files.deleteIfExists(lockFile);
      } finally {
        lock.release();
      }
    } catch (OverlappingFileLockException | NoSuchFileException e) {
      // Held by a writer in this JVM, or its owner finished meanwhile: not stale.
    }
  }

  /** Deletes {@code path} and everything below it; a missing path is not an error. */
  static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    Files.walkFileTree(path, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
        if (e != null && !(e instanceof NoSuchFileException)) {
          throw e;
        }
        Files.deleteIfExists(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
