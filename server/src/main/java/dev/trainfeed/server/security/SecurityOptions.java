package dev.trainfeed.server.security;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Transport security, tokens and per-connection limits of a server, with defaults applied.
 *
 * @param tlsCert PEM certificate chain the server presents; null serves plaintext (default)
 * @param tlsKey PKCS#8 PEM private key of {@code tlsCert}; set exactly when {@code tlsCert} is
 * @param tlsClientCa PEM CA certificates client certificates must chain to; when set, every
 *     client must present one (mutual TLS); needs {@code tlsCert}; default null
 * @param authTokens token file (see {@link TokenFile}); null lets every caller read every dataset
 *     (default)
 * @param reloadPeriod how often the TLS and token files are checked for changes (default 5 s, at
 *     least 100 ms); a change applies to new connections and calls without a restart
 * @param maxStreamsPerConnection most concurrent calls on one HTTP/2 connection, announced to
 *     clients as {@code SETTINGS_MAX_CONCURRENT_STREAMS} (default 128; conforming clients queue
 *     further calls, the server refuses calls beyond it)
 * @param maxConnectionAge a connection older than this is asked to go away (GOAWAY) so that
 *     clients reconnect and load spreads again; {@link Duration#ZERO} means never (default)
 * @param maxConnectionAgeGrace calls still running on an aged-out connection get this long before
 *     they are cut (default 30 s; the SDK resumes cut streams)
 * @param permitKeepAliveTime clients may ping at most this often; more frequent pings close the
 *     connection with {@code ENHANCE_YOUR_CALM} (default 20 s)
 * @param permitKeepAliveWithoutCalls whether clients may ping while they have no call open
 *     (default false)
 * @param keepAliveTime the server pings a silent connection after this long and closes it when
 *     no answer comes within {@code keepAliveTimeout}, so vanished clients release their streams
 *     (default 60 s)
 * @param keepAliveTimeout see {@code keepAliveTime} (default 20 s)
 * @param maxRstFramesPerWindow HTTP/2 RST_STREAM frames one client may send per {@code
 *     rstWindow} before the connection is closed (rapid-reset flood protection; default 200; 0
 *     turns the check off)
 * @param rstWindow the window of {@code maxRstFramesPerWindow} (default 10 s, whole seconds)
 */
public record SecurityOptions(
    Path tlsCert,
    Path tlsKey,
    Path tlsClientCa,
    Path authTokens,
    Duration reloadPeriod,
    int maxStreamsPerConnection,
    Duration maxConnectionAge,
    Duration maxConnectionAgeGrace,
    Duration permitKeepAliveTime,
    boolean permitKeepAliveWithoutCalls,
    Duration keepAliveTime,
    Duration keepAliveTimeout,
    int maxRstFramesPerWindow,
    Duration rstWindow) {

  /** Plaintext, no tokens, and the default limits above. */
  public static final SecurityOptions DEFAULTS = new SecurityOptions(null, null, null, null,
      Duration.ofSeconds(5), 128, Duration.ZERO, Duration.ofSeconds(30), Duration.ofSeconds(20),
      false, Duration.ofSeconds(60), Duration.ofSeconds(20), 200, Duration.ofSeconds(10));

  /** Validates the options with messages that name the flag to change. */
  public SecurityOptions {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together: pass both (PEM "
          + "certificate chain and its PKCS#8 PEM key) or neither");
    }
    if (tlsClientCa != null && tlsCert == null) {
      throw new IllegalArgumentException("--tls-client-ca needs --tls-cert and --tls-key: mutual "
          + "TLS runs over TLS");
    }
    if (reloadPeriod == null || reloadPeriod.toMillis() < 100) {
      throw new IllegalArgumentException("--credentials-reload-period must be at least 100ms, got "
          + reloadPeriod);
    }
    if (maxStreamsPerConnection < 1) {
      throw new IllegalArgumentException("--max-streams-per-connection must be at least 1, got "
          + maxStreamsPerConnection);
    }
    requireNonNegative(maxConnectionAge, "--max-connection-age");
    requireNonNegative(maxConnectionAgeGrace, "--max-connection-age-grace");
    requirePositive(permitKeepAliveTime, "--permit-keepalive-time");
    requirePositive(keepAliveTime, "--keepalive-time");
    requirePositive(keepAliveTimeout, "--keepalive-timeout");
    if (maxRstFramesPerWindow < 0) {
      throw new IllegalArgumentException("--max-rst-frames-per-window must be 0 (off) or more, got "
          + maxRstFramesPerWindow);
    }
    if (rstWindow == null || rstWindow.getSeconds() < 1 || rstWindow.getNano() != 0) {
      throw new IllegalArgumentException("--rst-window must be a whole number of seconds, at "
          + "least 1s, got " + rstWindow);
    }
  }

  /** Whether the server speaks TLS. */
  public boolean tls() {
    return tlsCert != null;
  }

  /** A copy with TLS files set; {@code clientCa} null means TLS without client certificates. */
  public SecurityOptions withTls(Path cert, Path key, Path clientCa) {
    return new SecurityOptions(cert, key, clientCa, authTokens, reloadPeriod,
        maxStreamsPerConnection, maxConnectionAge, maxConnectionAgeGrace, permitKeepAliveTime,
        permitKeepAliveWithoutCalls, keepAliveTime, keepAliveTimeout, maxRstFramesPerWindow,
        rstWindow);
  }

  /** A copy with a token file. */
  public SecurityOptions withAuthTokens(Path tokens) {
    return new SecurityOptions(tlsCert, tlsKey, tlsClientCa, tokens, reloadPeriod,
        maxStreamsPerConnection, maxConnectionAge, maxConnectionAgeGrace, permitKeepAliveTime,
        permitKeepAliveWithoutCalls, keepAliveTime, keepAliveTimeout, maxRstFramesPerWindow,
        rstWindow);
  }

  private static void requireNonNegative(Duration d, String flag) {
    if (d == null || d.isNegative()) {
      throw new IllegalArgumentException(flag + " must not be negative, got " + d);
    }
  }

  private static void requirePositive(Duration d, String flag) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(flag + " must be positive, got " + d);
    }
  }
}
