package dev.trainfeed.server.order;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The keys that sign resume tokens. The key file holds one key per line as 64 hex characters (32
 * bytes); the first line signs new tokens and every line verifies them, so keys rotate by adding
 * a new first line and removing the old one after its tokens have expired. {@code #} starts a
 * comment. Replicas share one file (in Kubernetes, one Secret).
 */
public final class ResumeKeyring {
  private static final HexFormat HEX = HexFormat.of();

  private final byte[] signingKey;
  private final int signingKeyId;
  private final Map<Integer, byte[]> keysById;

  private ResumeKeyring(List<byte[]> keys) {
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("a resume key file needs at least one key");
    }
    this.keysById = new LinkedHashMap<>();
    for (byte[] k : keys) {
      keysById.putIfAbsent(keyId(k), k.clone());
    }
    this.signingKey = keys.get(0).clone();
    this.signingKeyId = keyId(signingKey);
  }

  /** A keyring of the given keys (each at least 16 bytes); the first signs. */
  public static ResumeKeyring of(List<byte[]> keys) {
    for (byte[] k : keys) {
      if (k.length < 16) {
        throw new IllegalArgumentException("resume keys must be at least 16 bytes");
      }
    }
    return new ResumeKeyring(keys);
  }

  /**
   * Loads the key file, creating it with one fresh random key and mode 0600 when it does not exist.
   *
   * @throws IOException the file cannot be read or created, or holds a malformed line
   */
  public static ResumeKeyring loadOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      create(file);
    }
    List<byte[]> keys = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
      lineNo++;
      String s = line.strip();
      int hash = s.indexOf('#');
      if (hash >= 0) {
        s = s.substring(0, hash).strip();
      }
      if (s.isEmpty()) {
        continue;
      }
      try {
        keys.add(HEX.parseHex(s));
      } catch (IllegalArgumentException e) {
        throw new IOException("resume key file " + file + " line " + lineNo
            + " is not a hex key; each line holds 64 hex characters (32 bytes)", e);
      }
    }
    if (keys.isEmpty()) {
      throw new IOException("resume key file " + file + " holds no key; delete it to have a new "
          + "one created, or add a line of 64 hex characters");
    }
    try {
      return of(keys);
    } catch (IllegalArgumentException e) {
      throw new IOException("resume key file " + file + ": " + e.getMessage(), e);
    }
  }

  private static void create(Path file) throws IOException {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = dir.resolve(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    Files.deleteIfExists(tmp);
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rw-------")));
    } else {
      Files.createFile(tmp);
    }
    Files.writeString(tmp, HEX.formatHex(key) + "\n", StandardCharsets.US_ASCII);
    try {
      // Two servers starting at once must end up with the same key: neither publishing step
      // replaces an existing file, so the loser finds FileAlreadyExistsException.
      try {
        Files.createLink(file, tmp);
      } catch (UnsupportedOperationException noHardLinks) {
        Files.move(tmp, file);
      }
    } catch (FileAlreadyExistsException e) {
      // Another process won the race; use its key.
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** A short identifier of a key: the first 4 bytes of its SHA-256. */
  static int keyId(byte[] key) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(key);
      return ((d[0] & 0xff) << 24) | ((d[1] & 0xff) << 16) | ((d[2] & 0xff) << 8) | (d[3] & 0xff);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  byte[] signingKey() {
    return signingKey;
  }

  int signingKeyId() {
    return signingKeyId;
  }

  byte[] key(int id) {
    return keysById.get(id);
  }
}
