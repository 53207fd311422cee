package dev.trainfeed.server.cli;

import dev.trainfeed.server.security.SecurityOptions;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code serve} flags for TLS, tokens and per-connection limits, mixed into {@link
 * ServeCommand}; like every flag they can also come from {@code TRAINFEED_*} variables and the
 * {@code --config} file. Defaults are those of {@link SecurityOptions#DEFAULTS}.
 */
final class SecurityFlags {
  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain; with --tls-key the server speaks TLS only. Re-read "
          + "when it changes (default: plaintext).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "Unencrypted PKCS#8 PEM private key of --tls-cert.")
  Path tlsKey;

  @Option(names = "--tls-client-ca", paramLabel = "FILE",
      description = "PEM CA certificates; clients must present a certificate signed by one "
          + "(mutual TLS). Re-read when it changes (default: no client certificates).")
  Path tlsClientCa;

  @Option(names = "--auth-tokens", paramLabel = "FILE",
      description = "Bearer tokens, one per line, each optionally followed by DATASET[,DATASET...]"
          + "; '#' starts a comment. Re-read when it changes (default: no tokens needed).")
  Path authTokens;

  @Option(names = "--credentials-reload-period", defaultValue = "5s",
      converter = DurationConverter.class,
      description = "How often TLS and token files are checked for changes "
          + "(default: ${DEFAULT-VALUE}).")
  Duration reloadPeriod;

  @Option(names = "--max-streams-per-connection", defaultValue = "128",
      description = "Most concurrent calls on one connection (HTTP/2 MAX_CONCURRENT_STREAMS) "
          + "(default: ${DEFAULT-VALUE}).")
  int maxStreamsPerConnection;

  @Option(names = "--max-connection-age", defaultValue = "0s",
      converter = DurationConverter.class,
      description = "Ask clients to reconnect after this long, spreading load; 0s means never "
          + "(default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAge;

  @Option(names = "--max-connection-age-grace", defaultValue = "30s",
      converter = DurationConverter.class,
      description = "Time calls on an aged-out connection get before they are cut "
          + "(default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAgeGrace;

  @Option(names = "--permit-keepalive-time", defaultValue = "20s",
      converter = DurationConverter.class,
      description = "Shortest client keepalive ping interval accepted (default: ${DEFAULT-VALUE}).")
  Duration permitKeepAliveTime;

  @Option(names = "--permit-keepalive-without-calls", defaultValue = "false", arity = "0..1",
      description = "Accept keepalive pings on connections without calls "
          + "(default: ${DEFAULT-VALUE}).")
  boolean permitKeepAliveWithoutCalls;

  @Option(names = "--keepalive-time", defaultValue = "60s", converter = DurationConverter.class,
      description = "Ping a silent connection after this long (default: ${DEFAULT-VALUE}).")
  Duration keepAliveTime;

  @Option(names = "--keepalive-timeout", defaultValue = "20s", converter = DurationConverter.class,
      description = "Close a connection whose ping gets no answer in this long "
          + "(default: ${DEFAULT-VALUE}).")
  Duration keepAliveTimeout;

  @Option(names = "--max-rst-frames-per-window", defaultValue = "200",
      description = "RST_STREAM frames a client may send per --rst-window before its connection "
          + "is closed (rapid-reset protection); 0 turns it off (default: ${DEFAULT-VALUE}).")
  int maxRstFramesPerWindow;

  @Option(names = "--rst-window", defaultValue = "10s", converter = DurationConverter.class,
      description = "Window of --max-rst-frames-per-window, whole seconds "
          + "(default: ${DEFAULT-VALUE}).")
  Duration rstWindow;

  SecurityOptions options() {
    return new SecurityOptions(abs(tlsCert), abs(tlsKey), abs(tlsClientCa), abs(authTokens),
        reloadPeriod, maxStreamsPerConnection, maxConnectionAge, maxConnectionAgeGrace,
        permitKeepAliveTime, permitKeepAliveWithoutCalls, keepAliveTime, keepAliveTimeout,
        maxRstFramesPerWindow, rstWindow);
  }

  private static Path abs(Path p) {
    return p == null ? null : p.toAbsolutePath();
  }
}
