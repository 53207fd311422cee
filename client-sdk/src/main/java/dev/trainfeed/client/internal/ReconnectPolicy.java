package dev.trainfeed.client.internal;

import dev.trainfeed.client.Sleeper;
import dev.trainfeed.client.TrainFeedException;
import io.grpc.Status;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;

/**
 * When and how long to wait before reopening a failed call.
 *
 * @param attempts consecutive failed attempts allowed before giving up, ≥ 0
 * @param initial delay before the first reconnect; doubled for each further one
 * @param max cap on the delay
 * @param sleeper how to wait
 */
public record ReconnectPolicy(int attempts, Duration initial, Duration max, Sleeper sleeper) {

  /**
   * Returns whether a call that failed with {@code status} may be reopened on the same or another
   * replica: the server went away or is draining (UNAVAILABLE), a deadline passed, or the
   * stream or connection was reset under an INTERNAL, UNKNOWN or CANCELLED status (a server that
   * is killed resets its streams with RST_STREAM CANCEL). Callers handle their own cancellation
   * before asking.
   */
  public static boolean isRetriable(Status status) {
    switch (status.getCode()) {
      case UNAVAILABLE:
      case DEADLINE_EXCEEDED:
        return true;
      case INTERNAL:
      case UNKNOWN:
      case CANCELLED:
        if (status.getCause() instanceof IOException) {
          return true;
        }
        String text = String.valueOf(status.getDescription()).toLowerCase(Locale.ROOT);
        return text.contains("rst_stream") || text.contains("connection closed")
            || text.contains("connection reset") || text.contains("goaway");
      default:
        return false;
    }
  }

  /** Returns the delay before reconnect attempt {@code attempt} (1-based): initial × 2^(attempt-1), capped. */
  public Duration delay(int attempt) {
    Duration d = initial;
    for (int i = 1; i < attempt && d.compareTo(max) < 0; i++) {
      d = d.multipliedBy(2);
    }
    return d.compareTo(max) > 0 ? max : d;
  }

  /**
   * Waits before reconnect attempt {@code attempt}.
   *
   * @throws TrainFeedException with CANCELLED if the thread is interrupted; the flag stays set
   */
  public void pause(int attempt) {
    try {
      sleeper.sleep(delay(attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TrainFeedException(TrainFeedException.Code.CANCELLED,
          "interrupted while waiting to reconnect", e);
    }
  }
}
