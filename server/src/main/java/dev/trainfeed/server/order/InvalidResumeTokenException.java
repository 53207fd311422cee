package dev.trainfeed.server.order;

/** A resume token is malformed, forged or signed by an unknown key; maps to INVALID_ARGUMENT. */
public final class InvalidResumeTokenException extends Exception {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a message saying what is wrong. */
  public InvalidResumeTokenException(String message) {
    super(message);
  }
}
