package dev.trainfeed.server.store;

import java.io.IOException;

/** No dataset (or no such version of it) exists; maps to {@code NOT_FOUND}. */
public final class DatasetNotFoundException extends IOException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message naming what was asked for. */
  public DatasetNotFoundException(String message) {
    super(message);
  }
}
