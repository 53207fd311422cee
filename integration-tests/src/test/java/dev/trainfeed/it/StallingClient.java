package dev.trainfeed.it;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

/**
 * A client process for {@link LoadAndAbuseIT}: opens a stream, takes one batch, prints
 * {@code stalled}, then never reads again until it is killed.
 */
public final class StallingClient {
  private StallingClient() {}

  /** {@code StallingClient HOST:PORT DATASET}. */
  public static void main(String[] args) throws Exception {
    ManagedChannel ch = NettyChannelBuilder.forTarget(args[0]).usePlaintext().build();
    DataPlaneGrpc.newStub(ch).streamBatches(StreamBatchesRequest.newBuilder().setDataset(args[1])
        .setBatchSize(8).build(), new ClientResponseObserver<StreamBatchesRequest, Batch>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<StreamBatchesRequest> call) {
            call.disableAutoRequestWithInitial(1);
          }

          @Override
          public void onNext(Batch b) {
            System.out.println("stalled");
            System.out.flush();
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    Thread.sleep(Long.MAX_VALUE);
  }
}
