package dev.trainfeed.client;

import java.util.Arrays;
import java.util.Base64;
import java.util.OptionalLong;

/**
 * Opaque position in a batch stream, as the server put it in each batch. A stream opened with
 * {@link BatchStreamBuilder#resumeFrom(ResumeToken)} continues with the batch after the one that
 * carried the token: nothing repeated, nothing skipped, on any replica and after restarts.
 *
 * <p>{@link #toBytes()} are the wire token, the same any TrainFeed client sees. A token taken from
 * a {@link Batch} also knows that batch's epoch ({@link #epoch()}), and {@link #toString()} keeps
 * it ({@code EPOCH.BASE64}), so a checkpoint written as text resumes with no further settings. A
 * token rebuilt from bytes alone does not know its epoch: pass it to
 * {@link BatchStreamBuilder#epoch(long)} when you resume. Equality compares the bytes only.
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
   * Parses the form {@link #toString()} writes: {@code EPOCH.BASE64} or {@code BASE64} (URL-safe
   * base64, padding optional; the epoch, when present, is a decimal number).
   *
   * @throws IllegalArgumentException if {@code text} is not in that form or is empty
   */
  public static ResumeToken parse(String text) {
    String s = text.strip();
    int dot = s.indexOf('.');
    byte[] decoded;
    long epoch = -1;
    try {
      if (dot >= 0) {
        epoch = Long.parseLong(s.substring(0, dot));
      }
      decoded = Base64.getUrlDecoder().decode(s.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a resume token (expected EPOCH.BASE64 or URL-safe"
          + " base64, as ResumeToken.toString() writes): " + e.getMessage(), e);
    }
    ResumeToken t = fromBytes(decoded);
    return epoch >= 0 ? t.withEpoch(epoch) : t;
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

  /**
   * Returns {@code EPOCH.BASE64} when the epoch is known, else {@code BASE64} (the wire bytes as
   * URL-safe base64 without padding); {@link #parse(String)} reads both.
   */
  @Override
  public String toString() {
    return (epochKnown ? epoch + "." : "") + ENCODER.encodeToString(bytes);
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
