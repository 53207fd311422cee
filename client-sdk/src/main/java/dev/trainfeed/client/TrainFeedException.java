package dev.trainfeed.client;

import java.util.Objects;

/**
 * A call to the TrainFeed server failed and the SDK will not retry it: the server refused the
 * request, or reconnecting failed {@code reconnectAttempts} times in a row. {@link #code()} says
 * which kind of failure; {@link #serverMessage()} is the server's text, which says what to change.
 */
public final class TrainFeedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Status codes, mirroring the gRPC status codes of the same names. */
  public enum Code {
    /** Not an error; present so that every gRPC code has a counterpart. */
    OK,
    /** The call was cancelled, usually by closing the iterator or the client. */
    CANCELLED,
    /** Unknown error. */
    UNKNOWN,
    /** Malformed request: batch size 0, rank not below world size, unknown field, bad token or name. */
    INVALID_ARGUMENT,
    /** A deadline expired before the call completed. */
    DEADLINE_EXCEEDED,
    /** Unknown dataset or model. */
    NOT_FOUND,
    /** The entity already exists. */
    ALREADY_EXISTS,
    /** The caller may not read this dataset. */
    PERMISSION_DENIED,
    /** Over a limit: concurrent streams, or batch bytes over the server's or this client's maximum. */
    RESOURCE_EXHAUSTED,
    /** The resume token does not match the request; the message names the field. */
    FAILED_PRECONDITION,
    /** The operation was aborted. */
    ABORTED,
    /** Out of range. */
    OUT_OF_RANGE,
    /** The server does not implement the call. */
    UNIMPLEMENTED,
    /** Internal error on the server or in this SDK. */
    INTERNAL,
    /** No server could be reached, after the configured reconnect attempts. */
    UNAVAILABLE,
    /** A chunk failed its checksum on the server. */
    DATA_LOSS,
    /** Missing or invalid bearer token. */
    UNAUTHENTICATED
  }

  private final Code code;
  private final String serverMessage;

  /**
   * Creates an exception.
   *
   * @param code the status code, not null
   * @param serverMessage the server's description, or {@code ""} when it sent none; not null
   * @param cause the underlying failure, or null
   */
  public TrainFeedException(Code code, String serverMessage, Throwable cause) {
    super(Objects.requireNonNull(code, "code")
        + (serverMessage.isEmpty() ? "" : ": " + serverMessage), cause);
    this.code = code;
    this.serverMessage = serverMessage;
  }

  /** Returns the status code of the failed call. */
  public Code code() {
    return code;
  }

  /** Returns the server's description of the failure; empty when it sent none. */
  public String serverMessage() {
    return serverMessage;
  }
}
