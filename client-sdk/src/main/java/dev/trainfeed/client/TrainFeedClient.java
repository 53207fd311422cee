package dev.trainfeed.client;

import dev.trainfeed.client.internal.ProtoMapping;
import dev.trainfeed.client.internal.ReconnectPolicy;
import dev.trainfeed.client.internal.Replicas;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ClientInterceptor;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Client of a TrainFeed server, or of several replicas serving the same data. Thread-safe; make one
 * per process with {@link #builder()} and close it at the end.
 *
 * <pre>{@code
 * try (TrainFeedClient client = TrainFeedClient.builder().target("localhost:7070").build();
 *      BatchIterator batches = client.batches("mnist").batchSize(256).shuffle(42L).epochs(10).open()) {
 *   while (batches.hasNext()) {
 *     Batch batch = batches.next();
 *     float[] pixels = batch.tensor("image").toFloatArray(1 / 255f);
 *   }
 * }
 * }</pre>
 */
public final class TrainFeedClient implements AutoCloseable {
  private final Replicas replicas;

  private TrainFeedClient(Replicas replicas) {
    this.replicas = replicas;
  }

  /** Returns a builder; {@link Builder#target(String)} or {@link Builder#targets(List)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Lists the datasets this caller may read, at their current versions.
   *
   * @throws TrainFeedException if the call fails for good
   */
  public List<DatasetInfo> datasets() {
    return replicas.call(stub -> stub.listDatasets(ListDatasetsRequest.getDefaultInstance()))
        .getDatasetsList().stream().map(ProtoMapping::datasetInfo).toList();
  }

  /**
   * Describes one dataset.
   *
   * @param nameOrRef {@code NAME} for the current version or {@code NAME@VERSION}
   * @throws TrainFeedException with NOT_FOUND if there is no such dataset
   */
  public DatasetInfo dataset(String nameOrRef) {
    requireName(nameOrRef);
    return ProtoMapping.datasetInfo(replicas.call(
        stub -> stub.getDataset(GetDatasetRequest.newBuilder().setName(nameOrRef).build())));
  }

  /**
   * Starts describing a batch stream over {@code dataset}; set at least the batch size, then
   * {@link BatchStreamBuilder#open()}.
   *
   * @param dataset {@code NAME} or {@code NAME@VERSION}
   */
  public BatchStreamBuilder batches(String dataset) {
    requireName(dataset);
    return new BatchStreamBuilder(replicas, dataset);
  }

  /**
   * Returns the generative models the server runs: name, kind (gan, vae, ae), version, the fields
   * a sample has, latent size, the execution provider in use and whether it takes a class.
   *
   * @throws TrainFeedException if the call fails after the configured reconnect attempts
   */
  public List<ModelInfo> models() {
    return replicas.call(stub -> stub.listModels(
        dev.trainfeed.proto.v1.ListModelsRequest.getDefaultInstance()))
        .getModelsList().stream().map(ProtoMapping::modelInfo).toList();
  }

  /**
   * Starts describing a stream of synthetic samples from {@code model}; set the count and batch
   * size, then {@link SynthesizeBuilder#open()}.
   *
   * @param model a model name from {@link #models()}
   */
  public SynthesizeBuilder synthesize(String model) {
    if (model == null || model.isBlank()) {
      throw new IllegalArgumentException("model name must be non-empty; see models()");
    }
    return new SynthesizeBuilder(replicas, model);
  }

  /** Cancels every open stream and closes the connections; idempotent. */
  @Override
  public void close() {
    replicas.close();
  }

  private static void requireName(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("dataset name must be non-empty, like \"mnist\" or"
          + " \"mnist@VERSION\"");
    }
  }

  /** Settings of a {@link TrainFeedClient}, checked as they are set. */
  public static final class Builder {
    private static final int MIB = 1 << 20;

    private List<String> targets = List.of();
    private List<ManagedChannel> channels = List.of();
    /** Default of {@link #flowControlWindow}: 8 MiB. */
    public static final int DEFAULT_FLOW_CONTROL_WINDOW = 8 * MIB;

    private boolean tls;
    private Path caCert;
    private Path clientCertChain;
    private Path clientKey;
    private String authority;
    private int maxInboundMessageBytes = 65 * MIB;
    private int flowControlWindow = DEFAULT_FLOW_CONTROL_WINDOW;
    private String bearerToken;
    private int reconnectAttempts = 10;
    private Duration initialBackoff = Duration.ofMillis(100);
    private Duration maxBackoff = Duration.ofSeconds(5);
    private Sleeper sleeper = Sleeper.system();

    private Builder() {}

    /**
     * Connects to one server.
     *
     * @param target {@code host:port}, or a gRPC target URI such as {@code dns:///host:port}
     */
    public Builder target(String target) {
      return targets(List.of(Objects.requireNonNull(target, "target")));
    }

    /**
     * Connects to several replicas serving the same data: calls start on the first and move to the
     * next one when a replica becomes unavailable. Replaces earlier targets.
     *
     * @param targets at least one, each {@code host:port} or a gRPC target URI
     */
    public Builder targets(List<String> targets) {
      if (targets.isEmpty()) {
        throw new IllegalArgumentException("targets must name at least one server, like"
            + " \"localhost:7070\"");
      }
      for (String target : targets) {
        checkTarget(target);
      }
      this.targets = List.copyOf(targets);
      return this;
    }

    private static void checkTarget(String target) {
      if (target == null || target.isBlank() || target.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("target must be host:port without spaces, like"
            + " \"localhost:7070\", was \"" + target + "\"");
      }
      if (target.contains(":/")) {
        return;
      }
      int colon = target.lastIndexOf(':');
      int port = -1;
      if (colon > 0) {
        try {
          port = Integer.parseInt(target.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("target \"" + target + "\" needs a port from 1 to 65535,"
            + " like \"" + (colon > 0 ? target.substring(0, colon) : target) + ":7070\"");
      }
    }

    /**
     * Uses this channel instead of connecting to targets, for tests over the in-process transport.
     * The caller keeps ownership: {@link TrainFeedClient#close()} does not shut it down.
     */
    Builder channel(ManagedChannel channel) {
      return channels(List.of(channel));
    }

    /** Like {@link #channel(ManagedChannel)} for several replicas, tried in order. */
    Builder channels(List<ManagedChannel> channels) {
      if (channels.isEmpty()) {
        throw new IllegalArgumentException("channels must not be empty");
      }
      this.channels = List.copyOf(channels);
      return this;
    }

    /**
     * Sets the largest message accepted from the server. Default 65 MiB: the server's default
     * {@code --max-batch-bytes} of 64 MiB plus 1 MiB headroom for framing and metadata. Raise it
     * with the server's limit.
     *
     * @param bytes ≥ 1 MiB (1048576)
     */
    public Builder maxInboundMessageBytes(int bytes) {
      if (bytes < MIB) {
        throw new IllegalArgumentException("maxInboundMessageBytes must be >= 1 MiB (1048576), was "
            + bytes + "; set it to the server's --max-batch-bytes plus 1 MiB");
      }
      this.maxInboundMessageBytes = bytes;
      return this;
    }

    /**
     * Sets the initial HTTP/2 flow-control window of each connection and stream, in bytes: how
     * much the server may send before this client acknowledges. Default {@link
     * #DEFAULT_FLOW_CONTROL_WINDOW} (8 MiB), so that a multi-MiB batch is not cut into window-sized
     * round trips; gRPC's bandwidth-delay tuning may still grow it.
     *
     * @param bytes 64 KiB (65536) to 1 GiB
     */
    public Builder flowControlWindow(int bytes) {
      if (bytes < 64 << 10 || bytes > 1 << 30) {
        throw new IllegalArgumentException("flowControlWindow must be 64 KiB..1 GiB, was " + bytes);
      }
      this.flowControlWindow = bytes;
      return this;
    }

    /** Connects without TLS; the default. Forgets earlier TLS settings. */
    public Builder usePlaintext() {
      this.tls = false;
      this.caCert = null;
      this.clientCertChain = null;
      this.clientKey = null;
      return this;
    }

    /** Connects with TLS, trusting the certificate authorities of the Java runtime. */
    public Builder tls() {
      this.tls = true;
      this.caCert = null;
      return this;
    }

    /**
     * Connects with TLS, trusting only the certificate authorities in {@code caCert}, such as a
     * private CA that signed the server's certificate.
     *
     * @param caCert readable PEM file of one or more CA certificates
     */
    public Builder tls(Path caCert) {
      this.caCert = readable(caCert, "caCert");
      this.tls = true;
      return this;
    }

    /**
     * Presents a client certificate, for servers that require mutual TLS ({@code
     * --tls-client-ca}). Turns TLS on (trusting the runtime's CAs unless {@link #tls(Path)} names
     * others).
     *
     * @param certChain readable PEM certificate chain, the client's certificate first
     * @param privateKey readable unencrypted PKCS#8 PEM key ({@code BEGIN PRIVATE KEY})
     */
    public Builder clientCertificate(Path certChain, Path privateKey) {
      this.clientCertChain = readable(certChain, "certChain");
      this.clientKey = readable(privateKey, "privateKey");
      this.tls = true;
      return this;
    }

    /**
     * Checks the server's certificate against {@code authority} instead of the target's host
     * name, for servers reached by an address their certificate does not name; default none.
     *
     * @param authority a host name in the server's certificate, like {@code "trainfeed.internal"}
     */
    public Builder overrideAuthority(String authority) {
      if (authority == null || authority.isBlank()
          || authority.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("overrideAuthority needs a host name without spaces,"
            + " like \"trainfeed.internal\", was \"" + authority + "\"");
      }
      this.authority = authority;
      return this;
    }

    private static Path readable(Path file, String what) {
      if (file == null || !Files.isReadable(file) || Files.isDirectory(file)) {
        throw new IllegalArgumentException(what + " must be a readable PEM file, was " + file);
      }
      return file;
    }

    private ChannelCredentials credentials() {
      if (!tls) {
        return InsecureChannelCredentials.create();
      }
      TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
      try {
        if (caCert != null) {
          b.trustManager(caCert.toFile());
        }
        if (clientCertChain != null) {
          b.keyManager(clientCertChain.toFile(), clientKey.toFile());
        }
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("cannot read the TLS files (" + e.getMessage() + "):"
            + " tls(caCert) needs PEM certificates, clientCertificate(...) a PEM chain and an"
            + " unencrypted PKCS#8 PEM key", e);
      }
      return b.build();
    }

    /**
     * Sends {@code authorization: Bearer <token>} with every call; default none.
     *
     * @param token printable ASCII without spaces
     */
    public Builder bearerToken(String token) {
      if (token == null || token.isEmpty()
          || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException("bearerToken must be non-empty printable ASCII without"
            + " spaces (pass the token itself, without \"Bearer \")");
      }
      this.bearerToken = token;
      return this;
    }

    /**
     * Sets how many times in a row a failed call is reopened before the failure is thrown; the
     * count restarts whenever a batch arrives. Default 10; 0 turns reconnecting off.
     *
     * @param attempts ≥ 0
     */
    public Builder reconnectAttempts(int attempts) {
      if (attempts < 0) {
        throw new IllegalArgumentException("reconnectAttempts must be >= 0, was " + attempts);
      }
      this.reconnectAttempts = attempts;
      return this;
    }

    /**
     * Sets the wait before reconnect attempt n: {@code initial × 2^(n-1)}, at most {@code max}.
     * Defaults 100 ms and 5 s.
     *
     * @param initial &gt; 0
     * @param max ≥ initial
     */
    public Builder backoff(Duration initial, Duration max) {
      if (initial == null || max == null || initial.isNegative() || initial.isZero()
          || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("backoff needs 0 < initial <= max, was " + initial
            + ", " + max);
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** Sets how the SDK waits between reconnect attempts; default {@link Sleeper#system()}. */
    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    /**
     * Creates the client. Connections open lazily, on the first call.
     *
     * @throws IllegalStateException if no target was set
     */
    public TrainFeedClient build() {
      boolean own = channels.isEmpty();
      if (own && targets.isEmpty()) {
        throw new IllegalStateException("call target(\"host:port\") or targets(...) before build()");
      }
      if (!own && !targets.isEmpty()) {
        throw new IllegalStateException("set either targets or channels, not both");
      }
      List<ClientInterceptor> interceptors = new ArrayList<>();
      if (bearerToken != null) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
            "Bearer " + bearerToken);
        interceptors.add(MetadataUtils.newAttachHeadersInterceptor(headers));
      }
      List<ManagedChannel> used = new ArrayList<>(channels);
      List<String> names = new ArrayList<>(targets);
      ChannelCredentials credentials = own ? credentials() : null;
      for (String target : targets) {
        NettyChannelBuilder channel = NettyChannelBuilder.forTarget(target, credentials)
            .initialFlowControlWindow(flowControlWindow)
            .maxInboundMessageSize(maxInboundMessageBytes);
        if (authority != null) {
          channel.overrideAuthority(authority);
        }
        used.add(channel.build());
      }
      if (!own) {
        channels.forEach(c -> names.add(c.authority()));
      }
      ReconnectPolicy policy =
          new ReconnectPolicy(reconnectAttempts, initialBackoff, maxBackoff, sleeper);
      return new TrainFeedClient(new Replicas(used, names, own, interceptors,
          maxInboundMessageBytes, policy));
    }
  }
}
