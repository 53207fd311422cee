package dev.trainfeed.client;

import java.util.Arrays;
import java.util.Base64;
import java.util.OptionalLong;

/**
 * Opaque position in a batch stream, as the server put it in each batch. A stream opened with
 * {@link BatchStreamBuilder#resumeFrom(ResumeToken)} continues with the batch after the one that
 * carried the token: nothing repeated, nothing skipped, on any replica and after restarts.
 *
 * <p>The bytes ({@link #toBytes()}, {@link #toString()}) are the wire token, the same any TrainFeed
 * client sees. A token taken from a {@link Batch} also knows that batch's epoch ({@link #epoch()});
 * a token rebuilt from bytes does not, so keep the epoch beside it when you persist it and pass it
 * to {@link BatchStreamBuilder#epoch(long)} when you resume. Equality compares the bytes only.
 */
public final class ResumeToken {
  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  private final byte[] bytes;
  private final long epoch;
  private final boolean epochKnown;

  private ResumeToken(byte[] bytes, long epoch, boolean epochKnown) {
    this.bytes = bytes;
    this.epoch = epoch;
    this.epochKnown = epochKnown;
  }

  /**
   * Returns the token with these wire bytes (copied) and no known epoch.
   *
   * @throws IllegalArgumentException if {@code bytes} is empty: an empty token means "no token"
   */
  public static ResumeToken fromBytes(byte[] bytes) {
    if (bytes.length == 0) {
      throw new IllegalArgumentException("a resume token is never empty; omit resumeFrom(...) to start"
          + " at the beginning of the epoch");
    }
    return new ResumeToken(bytes.clone(), 0, false);
  }

  /**
   * Parses the form {@link #toString()} writes: URL-safe base64, padding optional.
   *
   * @throws IllegalArgumentException if {@code text} is not URL-safe base64 or is empty
   */
  public static ResumeToken parse(String text) {
    byte[] decoded;
    try {
      decoded = Base64.getUrlDecoder().decode(text.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a resume token (expected URL-safe base64, as"
          + " ResumeToken.toString() writes): " + e.getMessage(), e);
    }
    return fromBytes(decoded);
  }

  /**
   * Returns this token annotated with the epoch of the batch that carried it, so that {@link
   * BatchStreamBuilder#resumeFrom(ResumeToken)} needs no {@code epoch(...)}.
   *
   * @param epoch the epoch, ≥ 0
   */
  public ResumeToken withEpoch(long epoch) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0, was " + epoch);
    }
    return new ResumeToken(bytes, epoch, true);
  }

  /** Returns the epoch of the batch that carried this token, or empty when it is not known. */
  public OptionalLong epoch() {
    return epochKnown ? OptionalLong.of(epoch) : OptionalLong.empty();
  }

  /** Returns a copy of the wire bytes. */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /** Returns the wire bytes as URL-safe base64 without padding; {@link #parse(String)} reads it. */
  @Override
  public String toString() {
    return ENCODER.encodeToString(bytes);
  }

  /** Tokens are equal when their wire bytes are equal; the known epoch is not compared. */
  @Override
  public boolean equals(Object o) {
    return o instanceof ResumeToken && Arrays.equals(bytes, ((ResumeToken) o).bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }
}
