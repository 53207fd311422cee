package dev.trainfeed.client;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import dev.trainfeed.proto.v1.DatasetInfo;
import dev.trainfeed.proto.v1.FieldSpec;
import dev.trainfeed.proto.v1.GetDatasetRequest;
import dev.trainfeed.proto.v1.ListDatasetsRequest;
import dev.trainfeed.proto.v1.ListDatasetsResponse;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.proto.v1.Tensor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic DataPlane over one dataset "toy" of {@code numSamples} samples in stored order:
 * field "x" FLOAT32 [2] = (id, id + 0.5), field "label" INT64 [] = id % 3. Resume tokens are the
 * plain text {@code "e<epoch>:<next batch index>"}. Sends only while the client's flow control
 * allows (isReady), and can fail a call after a given number of batches.
 */
final class FakeDataPlane extends DataPlaneGrpc.DataPlaneImplBase {
  static final String DATASET = "toy";

  /**
   * A scheduled failure: after {@code afterBatches} batches of the next call, fail with {@code
   * status}, or with a null status stop sending and leave the call open.
   */
  record Failure(int afterBatches, Status status) {}

  final int numSamples;
  final List<StreamBatchesRequest> requests = new CopyOnWriteArrayList<>();
  final Queue<Failure> failures = new ConcurrentLinkedQueue<>();
  final AtomicInteger sent = new AtomicInteger();
  final CountDownLatch cancelled = new CountDownLatch(1);

  FakeDataPlane(int numSamples) {
    this.numSamples = numSamples;
  }

  static String token(long epoch, long nextIndex) {
    return "e" + epoch + ":" + nextIndex;
  }

  @Override
  public void listDatasets(ListDatasetsRequest request,
      StreamObserver<ListDatasetsResponse> response) {
    response.onNext(ListDatasetsResponse.newBuilder().addDatasets(info()).build());
    response.onCompleted();
  }

  @Override
  public void getDataset(GetDatasetRequest request, StreamObserver<DatasetInfo> response) {
    if (!request.getName().equals(DATASET)) {
      response.onError(Status.NOT_FOUND.withDescription("no dataset '" + request.getName() + "'")
          .asRuntimeException());
      return;
    }
    response.onNext(info());
    response.onCompleted();
  }

  DatasetInfo info() {
    return DatasetInfo.newBuilder().setName(DATASET).setVersion("v1").setNumSamples(numSamples)
        .addFields(FieldSpec.newBuilder().setName("x").setDtype(DType.DTYPE_FLOAT32).addShape(2))
        .addFields(FieldSpec.newBuilder().setName("label").setDtype(DType.DTYPE_INT64))
        .setNumChunks(1).setSizeBytes(numSamples * 16L).setStoredBytes(numSamples * 8L).build();
  }

  @Override
  public void streamBatches(StreamBatchesRequest request, StreamObserver<Batch> response) {
    requests.add(request);
    if (!request.getDataset().equals(DATASET)) {
      response.onError(Status.NOT_FOUND.withDescription("no dataset '" + request.getDataset()
          + "'").asRuntimeException());
      return;
    }
    int batchSize = request.getBatchSize();
    long epoch = request.getEpoch();
    long start = 0;
    if (!request.getResumeToken().isEmpty()) {
      String[] parts = request.getResumeToken().toStringUtf8().substring(1).split(":");
      if (Long.parseLong(parts[0]) != epoch) {
        response.onError(Status.FAILED_PRECONDITION.withDescription("token is for epoch " + parts[0]
            + ", request says epoch " + epoch).asRuntimeException());
        return;
      }
      start = Long.parseLong(parts[1]);
    }
    long batches = (numSamples + batchSize - 1) / batchSize;
    Failure failure = failures.poll();
    ServerCallStreamObserver<Batch> out = (ServerCallStreamObserver<Batch>) response;
    out.setOnCancelHandler(cancelled::countDown);
    long first = start;
    Runnable drain = new Runnable() {
      long next = first;
      int sentInCall;
      boolean done;

      @Override
      public synchronized void run() {
        while (!done && out.isReady() && !out.isCancelled()) {
          if (failure != null && sentInCall == failure.afterBatches()) {
            done = true;
            if (failure.status() != null) {
              out.onError(failure.status().asRuntimeException());
            }
          } else if (next == batches) {
            done = true;
            out.onCompleted();
          } else {
            out.onNext(batch(epoch, next++, batchSize));
            sentInCall++;
            sent.incrementAndGet();
          }
        }
      }
    };
    out.setOnReadyHandler(drain);
    drain.run();
  }

  Batch batch(long epoch, long index, int batchSize) {
    long from = index * batchSize;
    int size = (int) Math.min(batchSize, numSamples - from);
    ByteBuffer x = ByteBuffer.allocate(size * 8).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer label = ByteBuffer.allocate(size * 8).order(ByteOrder.LITTLE_ENDIAN);
    Batch.Builder b = Batch.newBuilder().setIndex(index).setEpoch(epoch)
        .setResumeToken(ByteString.copyFrom(token(epoch, index + 1), StandardCharsets.UTF_8));
    for (long id = from; id < from + size; id++) {
      b.addSampleIds(id);
      x.putFloat(id).putFloat(id + 0.5f);
      label.putLong(id % 3);
    }
    return b.addTensors(Tensor.newBuilder().setName("x").setDtype(DType.DTYPE_FLOAT32)
            .addShape(size).addShape(2).setData(ByteString.copyFrom(x.flip())))
        .addTensors(Tensor.newBuilder().setName("label").setDtype(DType.DTYPE_INT64)
            .addShape(size).setData(ByteString.copyFrom(label.flip())))
        .build();
  }
}
