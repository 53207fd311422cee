package dev.trainfeed.server.security;

import dev.trainfeed.server.store.DatasetNames;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The bearer tokens of a token file, kept only as SHA-256 hashes. Format: one token per line,
 * optionally followed by whitespace and a comma-separated list of datasets it may read (no list:
 * all datasets); {@code #} starts a comment; blank lines are ignored. Immutable and thread-safe.
 *
 * <pre>
 * # trainer jobs read everything
 * 3f9c0e1d7a...
 * # the evaluation job reads two datasets
 * 8a71b2c4d0...   mnist-test,cifar10-test
 * </pre>
 */
public final class AuthTokens {
  private final List<Entry> entries;

  private record Entry(byte[] hash, DatasetAccess access) {}

  private AuthTokens(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /**
   * Parses a token file's lines.
   *
   * @param lines the file's lines
   * @param source the file name for messages
   * @throws IllegalArgumentException naming the line (never its token) when a line is malformed
   */
  public static AuthTokens parse(List<String> lines, String source) {
    List<Entry> entries = new ArrayList<>();
    List<byte[]> seen = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash);
      }
      line = line.strip();
      if (line.isEmpty()) {
        continue;
      }
      String where = "line " + (i + 1) + " of " + source;
      String[] parts = line.split("\\s+");
      if (parts.length > 2) {
        throw new IllegalArgumentException(where + " has " + parts.length + " words; write TOKEN "
            + "or TOKEN DATASET[,DATASET...] (no spaces in the list)");
      }
      String token = parts[0];
      if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException(where + ": a token must be printable ASCII");
      }
      Set<String> datasets = null;
      if (parts.length == 2) {
        datasets = new LinkedHashSet<>();
        for (String d : parts[1].split(",", -1)) {
          try {
            datasets.add(DatasetNames.checkName(d));
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
          }
        }
      }
      byte[] digest = sha256(token);
      for (byte[] other : seen) {
        if (MessageDigest.isEqual(other, digest)) {
          throw new IllegalArgumentException(where + " repeats a token of an earlier line; give "
              + "each token one line with all its datasets");
        }
      }
      seen.add(digest);
      entries.add(new Entry(digest, new DatasetAccess(datasets, "token on " + where)));
    }
    return new AuthTokens(entries);
  }

  /**
   * The access of {@code token}, or empty when it is not in the file. Every entry is compared, in
   * constant time over fixed-length hashes, so the answer's timing says nothing about the tokens.
   */
  public Optional<DatasetAccess> lookup(String token) {
    if (token == null) {
      return Optional.empty();
    }
    byte[] digest = sha256(token);
    DatasetAccess found = null;
    for (Entry e : entries) {
      if (MessageDigest.isEqual(e.hash, digest) && found == null) {
        found = e.access;
      }
    }
    return Optional.ofNullable(found);
  }

  /** Number of tokens. */
  public int size() {
    return entries.size();
  }

  private static byte[] sha256(String token) {
    return WatchedFiles.sha256().digest(token.getBytes(StandardCharsets.UTF_8));
  }
}
