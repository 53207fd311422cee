package dev.trainfeed.server.stream;

import dev.trainfeed.server.store.ChunkCorruptedException;
import dev.trainfeed.server.store.DatasetNotFoundException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what went wrong into the status codes of the wire contract, with a message that says what
 * to change and never a stack trace.
 */
public final class Errors {
  private static final Logger log = LoggerFactory.getLogger(Errors.class);

  private Errors() {}

  /** The status a caller should see for {@code t}. */
  public static Status toStatus(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException e) {
      return e.getStatus();
    }
    if (t instanceof StatusException e) {
      return e.getStatus();
    }
    if (t instanceof ChunkCorruptedException) {
      return Status.DATA_LOSS.withDescription(t.getMessage());
    }
    if (t instanceof DatasetNotFoundException) {
      return Status.NOT_FOUND.withDescription(t.getMessage());
    }
    if (t instanceof IllegalArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(t.getMessage());
    }
    if (t instanceof IOException) {
      log.warn("storage error", t);
      return Status.INTERNAL.withDescription("storage error: " + t.getMessage());
    }
    log.error("unexpected error", t);
    return Status.INTERNAL.withDescription("internal error (" + t.getClass().getSimpleName()
        + "); the server log has the details");
  }

  /** An {@code INVALID_ARGUMENT} error with {@code message}. */
  static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
