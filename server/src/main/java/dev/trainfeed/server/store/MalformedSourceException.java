package dev.trainfeed.server.store;

import java.io.IOException;

/**
 * An ingest source cannot be read as its format requires (truncated file, bad header, ragged row,
 * undecodable image…). The message names the file and the problem, and is meant for the user as is.
 */
public final class MalformedSourceException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming the file and the problem. */
  public MalformedSourceException(String message) {
    super(message);
  }

  /** Creates the exception with a message naming the file and the problem, and its cause. */
  public MalformedSourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
