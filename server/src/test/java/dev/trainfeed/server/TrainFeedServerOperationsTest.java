package dev.trainfeed.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metrics, health and reflection of a real server on free ports, seen from outside. */
class TrainFeedServerOperationsTest {
  /** Every name design §7 requires that this server produces (synthesis adds its own). */
  static final List<String> REQUIRED = List.of("trainfeed_cache_hits_total",
      "trainfeed_cache_misses_total", "trainfeed_cache_evictions_total",
      "trainfeed_cache_size_bytes", "trainfeed_cache_capacity_bytes",
      "trainfeed_store_read_bytes_total", "trainfeed_chunk_load_seconds",
      "trainfeed_batches_sent_total", "trainfeed_batch_bytes_sent_total",
      "trainfeed_streams_active", "trainfeed_stream_stall_seconds_total",
      "grpc_server_processing_duration_seconds", "grpc_server_requests_received_messages_total",
      "grpc_server_responses_sent_messages_total", "jvm_memory_used_bytes",
      "jvm_buffer_memory_used_bytes");

  @TempDir Path tmp;

  @Test
  void metricsEndpointShowsEveryRequiredNameWithHelpAndBoundedTags() throws Exception {
    try (OpsFixture f = OpsFixture.start(tmp.resolve("data"), true)) {
      f.stream(0).forEachRemaining(b -> { });
      assertThatThrownBy(() -> DataPlaneGrpc.newBlockingStub(f.channel)
          .getDataset(GetDatasetRequest.newBuilder().setName("missing").build()))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
      Iterator<Batch> held = f.stream(1);
      held.next();

      String text = f.scrape();
      for (String name : REQUIRED) {
        assertThat(text).as(name).containsPattern("(?m)^# HELP " + name + " \\S");
      }
      assertThat(text).contains("trainfeed_chunk_load_seconds_bucket{le=");
      assertThat(text).containsPattern("(?m)^trainfeed_streams_active 1\\.0$");
      assertThat(text).containsPattern("(?m)^# HELP trainfeed_dataset_size_bytes \\S");
      assertThat(counter(text, "trainfeed_dataset_size_bytes{dataset=\"ops\",version=\""
          + f.server.registry().find("trainfeed.dataset.size").gauge().getId().getTag("version")
          + "\"}")).as("decoded bytes: float32[256] + int64 per sample")
          .isEqualTo(OpsFixture.SAMPLES * 1032.0);
      // gRPC meters per method and, for completed calls, per status code.
      assertThat(text).containsPattern("(?m)^grpc_server_processing_duration_seconds_count\\{"
          + "method=\"StreamBatches\",methodType=\"SERVER_STREAMING\","
          + "service=\"trainfeed.v1.DataPlane\",statusCode=\"OK\"} 1$");
      assertThat(text).containsPattern("(?m)^grpc_server_processing_duration_seconds_count\\{"
          + "method=\"GetDataset\",methodType=\"UNARY\",service=\"trainfeed.v1.DataPlane\","
          + "statusCode=\"NOT_FOUND\"} 1$");
      assertThat(text).contains("jvm_buffer_memory_used_bytes{id=\"direct\"}",
          "jvm_buffer_memory_used_bytes{id=\"mapped\"}", "jvm_memory_used_bytes{area=\"heap\"");
      // A cache of half the dataset stays within its bound; the policy keeps what it holds for
      // the next epoch and refuses newcomers rather than evicting, so evictions may be zero.
      assertThat(counter(text, "trainfeed_cache_evictions_total")).isNotNegative();
      assertThat(counter(text, "trainfeed_cache_size_bytes"))
          .isLessThanOrEqualTo(counter(text, "trainfeed_cache_capacity_bytes")).isPositive();
      assertThat(counter(text, "trainfeed_batches_sent_total")).isGreaterThanOrEqualTo(
          OpsFixture.SAMPLES / 64 + 1);

      held.forEachRemaining(b -> { });
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (f.scrape().contains("trainfeed_dataset_size_bytes{") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(f.scrape()).as("no dataset gauge once its last stream ended")
          .doesNotContain("trainfeed_dataset_size_bytes{");
      // Streams send cache hits from pinned pages; once they ended, nothing stays pinned.
      assertThat(text).containsPattern("(?m)^# HELP trainfeed_cache_pinned_bytes \\S");
      while (counter(f.scrape(), "trainfeed_cache_pinned_bytes") > 0
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(counter(f.scrape(), "trainfeed_cache_pinned_bytes")).isZero();
    }
  }

  @Test
  void healthServesOnBothPortsAndReflectionListsTheDataPlane() throws Exception {
    try (OpsFixture f = OpsFixture.start(tmp.resolve("data"), true)) {
      ManagedChannel healthPort = NettyChannelBuilder.forAddress("127.0.0.1",
          f.server.healthPort()).usePlaintext().build();
      try {
        for (ManagedChannel ch : List.of(f.channel, healthPort)) {
          for (String service : List.of("", TrainFeedServer.SERVICE_NAME)) {
            assertThat(HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.newBuilder()
                .setService(service).build()).getStatus()).isEqualTo(ServingStatus.SERVING);
          }
        }
        // The health-only port serves nothing else.
        assertThatThrownBy(() -> DataPlaneGrpc.newBlockingStub(healthPort)
            .getDataset(GetDatasetRequest.newBuilder().setName(OpsFixture.DATASET).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
      } finally {
        healthPort.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
      ServerReflectionResponse r = reflect(f.channel).get(30, TimeUnit.SECONDS);
      assertThat(r.getListServicesResponse().getServiceList())
          .extracting(s -> s.getName()).contains(TrainFeedServer.SERVICE_NAME);
    }
  }

  @Test
  void reflectionOffLeavesTheServiceAbsent() throws Exception {
    try (OpsFixture f = OpsFixture.start(tmp.resolve("data"), false)) {
      CompletableFuture<ServerReflectionResponse> r = reflect(f.channel);
      assertThat(r).failsWithin(30, TimeUnit.SECONDS).withThrowableOfType(Exception.class)
          .satisfies(e -> assertThat(Status.fromThrowable(e).getCode())
              .isEqualTo(Status.Code.UNIMPLEMENTED));
    }
  }

  private static CompletableFuture<ServerReflectionResponse> reflect(ManagedChannel ch) {
    CompletableFuture<ServerReflectionResponse> result = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(ch)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse value) {
            result.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            result.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            result.completeExceptionally(new IllegalStateException("no reflection response"));
          }
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("*").build());
    requests.onCompleted();
    return result;
  }

  static double counter(String text, String name) {
    return text.lines().filter(l -> l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1))).findFirst()
        .orElseThrow(() -> new AssertionError(name + " missing from the scrape"));
  }
}
