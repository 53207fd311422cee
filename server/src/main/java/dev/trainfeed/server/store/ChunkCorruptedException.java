package dev.trainfeed.server.store;

import java.io.IOException;

/** A stored chunk failed its checksum or could not be decoded; maps to {@code DATA_LOSS}. */
public final class ChunkCorruptedException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the dataset, version and chunk. */
  public ChunkCorruptedException(String message) {
    super(message);
  }

  /** Creates the exception with a message and the underlying decode failure. */
  public ChunkCorruptedException(String message, Throwable cause) {
    super(message, cause);
  }
}
