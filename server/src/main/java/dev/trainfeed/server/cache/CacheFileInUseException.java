package dev.trainfeed.server.cache;

import java.io.IOException;

/** Another process (or another cache in this process) holds the lock on a cache file. */
public final class CacheFileInUseException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the file, the holder and what to change. */
  public CacheFileInUseException(String message) {
    super(message);
  }
}
