package dev.trainfeed.client;

import java.time.Duration;

/**
 * Waits between reconnect attempts. The default is {@link #system()}; tests pass one that records
 * the requested delays and returns at once.
 */
@FunctionalInterface
public interface Sleeper {
  /**
   * Blocks the calling thread for {@code duration}.
   *
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void sleep(Duration duration) throws InterruptedException;

  /** Returns a sleeper backed by {@link Thread#sleep(long)}. */
  static Sleeper system() {
    return duration -> Thread.sleep(duration.toMillis());
  }
}
