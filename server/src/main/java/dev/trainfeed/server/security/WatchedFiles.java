package dev.trainfeed.server.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Files that are applied again whenever their content changes: TLS certificates and keys, client
 * CAs. The content is compared (not the modification time, which has coarse resolution on some
 * file systems and stays put when a Kubernetes Secret swaps a symlink). A change that fails to
 * apply keeps the previous state, logs a warning and is tried again at the next check, so a
 * certificate written before its key is picked up once both are in place.
 */
final class WatchedFiles {
  private static final Logger log = LoggerFactory.getLogger(WatchedFiles.class);

  /** Applies the files' content; throws when it is unusable. */
  interface Loader {
    void load() throws Exception;
  }

  private final String what;
  private final List<Path> files;
  private final Loader loader;
  private byte[] applied;

  /**
   * Applies the files now.
   *
   * @param what names the files in messages, such as {@code "--tls-cert and --tls-key"}
   * @throws Exception whatever {@code loader} throws: a server does not start with unusable files
   */
  WatchedFiles(String what, List<Path> files, Loader loader) throws Exception {
    this.what = what;
    this.files = List.copyOf(files);
    this.loader = loader;
    byte[] hash = contentHash();
    loader.load();
    this.applied = hash;
  }

  /** Applies the files again if their content changed; returns whether it did. */
  synchronized boolean reloadIfChanged() {
    byte[] hash;
    try {
      hash = contentHash();
    } catch (IOException e) {
      log.warn("Cannot read {} ({}); keeping what was loaded before", what, e.toString());
      return false;
    }
    if (Arrays.equals(hash, applied)) {
      return false;
    }
    try {
      loader.load();
      applied = hash;
      log.info("Reloaded {}", what);
      return true;
    } catch (Exception e) {
      log.warn("Changed {} cannot be used yet ({}); keeping what was loaded before and trying "
          + "again at the next check", what, e.getMessage());
      return false;
    }
  }

  private byte[] contentHash() throws IOException {
    MessageDigest md = sha256();
    for (Path f : files) {
      md.update(sha256().digest(Files.readAllBytes(f)));
    }
    return md.digest();
  }

  /** A fresh SHA-256 digest. */
  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
