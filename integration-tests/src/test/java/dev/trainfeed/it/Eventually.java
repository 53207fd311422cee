package dev.trainfeed.it;

import java.time.Duration;
import java.util.concurrent.Callable;

/** Polls a condition until it holds or a generous deadline passes (no timing is asserted). */
final class Eventually {
  private Eventually() {}

  /** Returns once {@code condition} is true; fails with {@code what} after {@code limit}. */
  static void await(String what, Duration limit, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        if (condition.call()) {
          return;
        }
        last = null;
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("timed out after " + limit + " waiting for " + what, last);
  }
}
