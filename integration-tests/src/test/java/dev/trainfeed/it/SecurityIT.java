package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.DatasetInfo;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS, mutual TLS, certificate rotation and bearer tokens against real server processes, read
 * through the Java SDK and raw gRPC channels. Certificates are made with openssl at test time.
 */
class SecurityIT {
  @TempDir static Path tmp;
  static Path data;
  static Path certs;
  static Path ca;
  static Path otherCa;

  @BeforeAll
  static void setUp() throws Exception {
    data = tmp.resolve("data");
    TestData.ingest(data, "ids", 200, "1k");
    TestData.ingest(data, "secret", 50, "1k");
    certs = tmp.resolve("certs");
    ca = TestCerts.ca(certs, "ca");
    otherCa = TestCerts.ca(certs, "other-ca");
  }

  private static TrainFeedClient.Builder sdk(ServerProcess s) {
    return TrainFeedClient.builder().target("localhost:" + s.port()).reconnectAttempts(0);
  }

  private static TrainFeedException.Code failure(Runnable r) {
    try {
      r.run();
    } catch (TrainFeedException e) {
      return e.code();
    }
    throw new AssertionError("call succeeded, expected a failure");
  }

  @Test
  void tlsOnlyTokensAndRotationWithoutRestart() throws Exception {
    Path dir = tmp.resolve("tls");
    Files.createDirectories(dir);
    Path first = TestCerts.issue(certs, "server-1", ca);
    Path cert = dir.resolve("server.pem");
    Path key = dir.resolve("server.key");
    Files.copy(first, cert);
    Files.copy(TestCerts.keyOf(first), key);
    Path tokens = dir.resolve("tokens.txt");
    Files.writeString(tokens, "# test tokens\nall-token\nids-token   ids  # only ids\n");
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m",
        "--tls-cert", cert.toString(), "--tls-key", key.toString(),
        "--auth-tokens", tokens.toString(), "--credentials-reload-period", "200ms")) {
      // Plaintext clients get nowhere.
      ManagedChannel plain = NettyChannelBuilder.forTarget(s.target()).usePlaintext().build();
      try {
        assertThatThrownBy(() -> DataPlaneGrpc.newBlockingStub(plain)
            .withDeadlineAfter(10, TimeUnit.SECONDS)
            .listDatasets(ListDatasetsRequest.getDefaultInstance()))
            .isInstanceOf(StatusRuntimeException.class);
      } finally {
        plain.shutdownNow();
      }
      // Health answers over TLS without a token, for probes.
      ManagedChannel tlsRaw = Grpc.newChannelBuilder("localhost:" + s.port(), trusting(ca))
          .build();
      try {
        assertThat(HealthGrpc.newBlockingStub(tlsRaw).check(HealthCheckRequest.newBuilder()
            .setService("trainfeed.v1.DataPlane").build()).getStatus())
            .isEqualTo(ServingStatus.SERVING);
        StatusRuntimeException noToken = (StatusRuntimeException) org.assertj.core.api.Assertions
            .catchThrowable(() -> DataPlaneGrpc.newBlockingStub(tlsRaw)
                .listDatasets(ListDatasetsRequest.getDefaultInstance()));
        assertThat(noToken.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(noToken.getStatus().getDescription()).contains("authorization: Bearer");
      } finally {
        tlsRaw.shutdownNow();
      }

      try (TrainFeedClient all = sdk(s).tls(ca).bearerToken("all-token").build();
          TrainFeedClient idsOnly = sdk(s).tls(ca).bearerToken("ids-token").build();
          TrainFeedClient wrong = sdk(s).tls(ca).bearerToken("nope").build()) {
        assertThat(all.datasets()).extracting(DatasetInfo::name).containsExactly("ids", "secret");
        assertThat(idsOnly.datasets()).extracting(DatasetInfo::name).containsExactly("ids");
        assertThat(failure(() -> idsOnly.dataset("secret")))
            .isEqualTo(TrainFeedException.Code.PERMISSION_DENIED);
        assertThat(failure(() -> idsOnly.dataset("no-such-dataset")))
            .as("no probing for names").isEqualTo(TrainFeedException.Code.PERMISSION_DENIED);
        assertThat(failure(() -> {
          try (BatchIterator it = idsOnly.batches("secret").batchSize(10).open()) {
            it.hasNext();
          }
        })).isEqualTo(TrainFeedException.Code.PERMISSION_DENIED);
        assertThat(failure(wrong::datasets)).isEqualTo(TrainFeedException.Code.UNAUTHENTICATED);
        int samples = 0;
        try (BatchIterator it = idsOnly.batches("ids").batchSize(32).open()) {
          while (it.hasNext()) {
            samples += it.next().sampleIds().length;
          }
        }
        assertThat(samples).isEqualTo(200);
      }

      // A new token line applies without a restart.
      Files.writeString(tokens, "all-token\nids-token ids\nlate-token secret\n");
      try (TrainFeedClient late = sdk(s).tls(ca).bearerToken("late-token").build()) {
        Eventually.await("the reloaded token file", Duration.ofSeconds(30),
            () -> late.datasets().size() == 1);
        assertThat(late.datasets()).extracting(DatasetInfo::name).containsExactly("secret");
      }

      // Rotate to a certificate from another CA: new connections see it, no restart.
      Path second = TestCerts.issue(certs, "server-2", otherCa);
      replace(TestCerts.keyOf(second), key);
      replace(second, cert);
      try (TrainFeedClient rotated = sdk(s).tls(otherCa).bearerToken("all-token").build()) {
        Eventually.await("the rotated certificate", Duration.ofSeconds(30), () -> {
          try (TrainFeedClient fresh = sdk(s).tls(otherCa).bearerToken("all-token").build()) {
            return fresh.datasets().size() == 2;
          }
        });
        assertThat(rotated.datasets()).hasSize(2);
      }
      try (TrainFeedClient old = sdk(s).tls(ca).bearerToken("all-token").build()) {
        assertThat(failure(old::datasets)).isEqualTo(TrainFeedException.Code.UNAVAILABLE);
      }
      assertThat(s.log()).doesNotContain("all-token", "ids-token", "late-token", "LEAK:");
    }
  }

  @Test
  void mutualTlsRequiresAClientCertificateFromTheConfiguredCa() throws Exception {
    Path dir = tmp.resolve("mtls");
    Files.createDirectories(dir);
    Path server = TestCerts.issue(dir, "server", ca);
    Path client = TestCerts.issue(dir, "client", ca);
    Path stranger = TestCerts.issue(dir, "stranger", otherCa);
    try (ServerProcess s = ServerProcess.start(data, 0, "--cache-size", "4m",
        "--tls-cert", server.toString(), "--tls-key", TestCerts.keyOf(server).toString(),
        "--tls-client-ca", ca.toString())) {
      try (TrainFeedClient noCert = sdk(s).tls(ca).build()) {
        assertThat(failure(noCert::datasets)).isEqualTo(TrainFeedException.Code.UNAVAILABLE);
      }
      try (TrainFeedClient wrongCa = sdk(s).tls(ca)
          .clientCertificate(stranger, TestCerts.keyOf(stranger)).build()) {
        assertThat(failure(wrongCa::datasets)).isEqualTo(TrainFeedException.Code.UNAVAILABLE);
      }
      try (TrainFeedClient ok = sdk(s).tls(ca).clientCertificate(client, TestCerts.keyOf(client))
          .build()) {
        assertThat(ok.datasets()).extracting(DatasetInfo::name).containsExactly("ids", "secret");
      }
      // The authority override lets a client reach the server by an address the certificate
      // does not name.
      try (TrainFeedClient byIp = TrainFeedClient.builder().target("127.0.0.1:" + s.port())
          .reconnectAttempts(0).tls(ca).clientCertificate(client, TestCerts.keyOf(client))
          .overrideAuthority("localhost").build()) {
        assertThat(byIp.datasets()).hasSize(2);
      }
    }
  }

  @Test
  void badTlsFilesStopTheStartWithAClearMessage() throws Exception {
    Path bogus = tmp.resolve("bogus.pem");
    Files.writeString(bogus, "not a certificate\n");
    assertThatThrownBy(() -> ServerProcess.start(data, 0, "--tls-cert", bogus.toString(),
        "--tls-key", bogus.toString()))
        .hasMessageContaining("--tls-cert");
  }

  private static ChannelCredentials trusting(Path caCert) throws Exception {
    return TlsChannelCredentials.newBuilder().trustManager(caCert.toFile()).build();
  }

  private static void replace(Path from, Path to) throws Exception {
    Path staged = to.resolveSibling(to.getFileName() + ".new");
    Files.copy(from, staged, StandardCopyOption.REPLACE_EXISTING);
    Files.move(staged, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
