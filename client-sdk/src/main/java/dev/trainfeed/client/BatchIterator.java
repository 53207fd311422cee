package dev.trainfeed.client;

import java.util.Iterator;
import java.util.Optional;

/**
 * The batches of one stream, in order, each exactly once, across epochs and reconnects. Made by
 * {@link BatchStreamBuilder#open()}; close it (try-with-resources) to cancel the server call.
 *
 * <p>At most {@code prefetch} batches are received ahead of the caller; the server is held back by
 * gRPC flow control, so memory stays bounded however slow the training loop is. When a call fails
 * with UNAVAILABLE, DEADLINE_EXCEEDED, or INTERNAL/UNKNOWN from a reset connection, the batches
 * already received are handed out first, then the call is reopened (on the next replica, after
 * exponential backoff) from the token of the last batch handed out. Any other failure, or more
 * than {@code reconnectAttempts} failed attempts in a row, ends iteration with a {@link
 * TrainFeedException}.
 *
 * <p>Consume from one thread; {@link #close()} may be called from any thread.
 */
public interface BatchIterator extends Iterator<Batch>, AutoCloseable {

  /**
   * Returns whether another batch follows, waiting for it if needed; false after the last epoch
   * ends or after {@link #close()}.
   *
   * @throws TrainFeedException if the stream failed for good; the flag stays set on interrupt and
   *     the code is CANCELLED
   */
  @Override
  boolean hasNext();

  /**
   * Returns the next batch, waiting for it if needed, and asks the server for one more.
   *
   * @throws java.util.NoSuchElementException if {@link #hasNext()} is false
   * @throws TrainFeedException if the stream failed for good
   */
  @Override
  Batch next();

  /**
   * Returns the resume token of the last batch {@link #next()} returned, for checkpoints; empty
   * before the first. Its {@link ResumeToken#epoch()} is that batch's epoch.
   */
  Optional<ResumeToken> lastResumeToken();

  /** Cancels the server call and ends iteration; idempotent. */
  @Override
  void close();
}
