package dev.trainfeed.server.security;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of {@link SecurityOptions}: TLS credentials whose certificate, key and client
 * CA are re-read every {@link SecurityOptions#reloadPeriod()} when their files change (new
 * connections get the new ones, running ones keep theirs), the token interceptor with its
 * reloading {@link TokenFile}, and the per-connection limits of the Netty transport.
 */
public final class TransportSecurity implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TransportSecurity.class);

  private final SecurityOptions options;
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final List<Closeable> watches = new ArrayList<>();
  private final ServerCredentials credentials;
  private final TokenFile tokens;

  private TransportSecurity(SecurityOptions options, ScheduledExecutorService scheduler,
      boolean ownScheduler) throws IOException {
    this.options = options;
    this.scheduler = scheduler;
    this.ownScheduler = ownScheduler;
    try {
      this.credentials = options.tls() ? tls() : InsecureServerCredentials.create();
      this.tokens = options.authTokens() == null ? null : new TokenFile(options.authTokens());
      if (tokens != null) {
        tokens.watch(scheduler, options.reloadPeriod());
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Loads the TLS files and the token file and starts watching them on a daemon thread of its
   * own.
   *
   * @throws IOException if a file cannot be read or parsed; the message names the flag
   */
  public static TransportSecurity start(SecurityOptions options) throws IOException {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "trainfeed-credentials-reload");
      t.setDaemon(true);
      return t;
    });
    return new TransportSecurity(options, s, true);
  }

  /**
   * Like {@link #start(SecurityOptions)} with a scheduler the caller owns (tests drive reloads
   * with it); {@link #close()} leaves it running.
   */
  public static TransportSecurity start(SecurityOptions options,
      ScheduledExecutorService scheduler) throws IOException {
    return new TransportSecurity(options, scheduler, false);
  }

  private ServerCredentials tls() throws IOException {
    long period = options.reloadPeriod().toMillis();
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    // grpc's own file refresh enforces a one-minute minimum period and needs both files' times
    // to change; this watch compares content at the configured period instead.
    watch("--tls-cert " + options.tlsCert() + " and --tls-key " + options.tlsKey(),
        List.of(options.tlsCert(), options.tlsKey()), () -> loadIdentity(keys),
        "they must be a PEM certificate chain and its unencrypted PKCS#8 PEM key "
            + "(BEGIN PRIVATE KEY)");
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
    if (options.tlsClientCa() != null) {
      AdvancedTlsX509TrustManager trust;
      try {
        trust = AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
            .build();
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot set up client certificate checks: " + e.getMessage(), e);
      }
      watch("--tls-client-ca " + options.tlsClientCa(), List.of(options.tlsClientCa()),
          () -> trust.updateTrustCredentials(options.tlsClientCa().toFile()),
          "it must hold PEM CA certificates");
      b.trustManager(trust).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    log.info("TLS on{}; certificate files are checked for changes every {} ms",
        options.tlsClientCa() != null ? " with client certificates required (mutual TLS)" : "",
        period);
    return b.build();
  }

  private void watch(String what, List<Path> files, WatchedFiles.Loader loader, String hint)
      throws IOException {
    WatchedFiles w;
    try {
      w = new WatchedFiles(what, files, loader);
    } catch (Exception e) {
      throw new IOException("cannot load " + what + " (" + e.getMessage() + "); " + hint, e);
    }
    long ms = options.reloadPeriod().toMillis();
    ScheduledFuture<?> task =
        scheduler.scheduleWithFixedDelay(w::reloadIfChanged, ms, ms, TimeUnit.MILLISECONDS);
    watches.add(() -> task.cancel(false));
  }

  /** Reads the key pair, refusing a certificate and key that do not belong together. */
  private void loadIdentity(AdvancedTlsX509KeyManager keys) throws Exception {
    X509Certificate[] chain;
    PrivateKey key;
    try (InputStream c = Files.newInputStream(options.tlsCert());
        InputStream k = Files.newInputStream(options.tlsKey())) {
      chain = CertificateUtils.getX509Certificates(c);
      key = CertificateUtils.getPrivateKey(k);
    }
    if (chain.length == 0) {
      throw new GeneralSecurityException("no certificate in " + options.tlsCert());
    }
    KeyPairCheck.requireMatch(chain[0], key);
    keys.updateIdentityCredentials(chain, key);
  }

  /**
   * A Netty server builder listening on {@code address} with these credentials, limits and (when
   * a token file is set) the token interceptor. Add further interceptors after this one to run
   * them before it.
   */
  public NettyServerBuilder serverBuilder(SocketAddress address) {
    SecurityOptions o = options;
    NettyServerBuilder b = NettyServerBuilder.forAddress(address, credentials)
        .maxConcurrentCallsPerConnection(o.maxStreamsPerConnection())
        .permitKeepAliveTime(o.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(o.permitKeepAliveWithoutCalls())
        .keepAliveTime(o.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(o.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS);
    if (!o.maxConnectionAge().isZero()) {
      b.maxConnectionAge(o.maxConnectionAge().toNanos(), TimeUnit.NANOSECONDS)
          .maxConnectionAgeGrace(o.maxConnectionAgeGrace().toNanos(), TimeUnit.NANOSECONDS);
    }
    if (o.maxRstFramesPerWindow() > 0) {
      b.maxRstFramesPerWindow(o.maxRstFramesPerWindow(),
          Math.toIntExact(o.rstWindow().getSeconds()));
    }
    if (tokens != null) {
      b.intercept(new AuthInterceptor(tokens::tokens));
    }
    return b;
  }

  /** The token file in force, or null when every caller may read everything. */
  public TokenFile tokens() {
    return tokens;
  }

  /** Stops watching the files. */
  @Override
  public void close() {
    for (Closeable c : watches) {
      try {
        c.close();
      } catch (IOException e) {
        log.debug("stopping a certificate watch", e);
      }
    }
    if (tokens != null) {
      tokens.close();
    }
    if (ownScheduler) {
      scheduler.shutdownNow();
    }
  }
}
