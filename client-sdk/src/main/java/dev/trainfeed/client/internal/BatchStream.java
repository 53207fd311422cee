package dev.trainfeed.client.internal;

import com.google.protobuf.ByteString;
import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.ResumeToken;
import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The {@link BatchIterator} behind {@code BatchStreamBuilder.open()}: one StreamBatches call per
 * epoch, reopened from the last handed-out batch's token after retriable failures.
 *
 * <p>Flow control: each call starts with {@code prefetch} messages requested and requests one more
 * for each batch handed out, so at most {@code prefetch} batches are received but not yet consumed
 * and the per-call queue never grows beyond that (plus the end-of-call event).
 */
public final class BatchStream implements BatchIterator {
  private static final Object END = new Object();

  /** Starts one server-streaming call of batches (StreamBatches or Synthesize). */
  @FunctionalInterface
  public interface CallStarter {
    /**
     * Starts the call for {@code epoch} from {@code token} (empty: from the start), delivering
     * to {@code observer}.
     */
    void start(DataPlaneGrpc.DataPlaneStub stub, long epoch, ByteString token,
        StreamObserver<dev.trainfeed.proto.v1.Batch> observer);
  }

  private final Replicas replicas;
  private final CallStarter starter;
  private final int prefetch;
  private long epoch;
  private long epochsLeft;
  private ByteString epochStartToken;
  private ByteString lastToken = ByteString.EMPTY;
  private ResumeToken lastResumeToken;
  private int failures;
  private Batch pending;
  private boolean finished;
  private volatile Call call;
  private volatile boolean closed;

  /** Opens the first call of the stream {@code params} describes. */
  public BatchStream(Replicas replicas, StreamParams params) {
    this(replicas, params.firstEpoch(), params.epochs(), params.resumeToken(), params.prefetch(),
        (stub, epoch, token, observer) ->
            // The stub's channel carries the interceptors and its options the message size limit;
            // the aliasing marshaller parses without copying tensor data a second time.
            ClientCalls.asyncServerStreamingCall(stub.getChannel().newCall(
                AliasingBatchMarshaller.STREAM_BATCHES, stub.getCallOptions()),
                ProtoMapping.request(params, epoch, token), observer));
  }

  /**
   * Opens the first of {@code epochs} calls that {@code starter} makes, from {@code resumeToken}
   * (empty: from the start), with {@code prefetch} batches requested ahead.
   */
  public BatchStream(Replicas replicas, long firstEpoch, long epochs, byte[] resumeToken,
      int prefetch, CallStarter starter) {
    this.replicas = replicas;
    this.starter = starter;
    this.prefetch = prefetch;
    this.epoch = firstEpoch;
    this.epochsLeft = epochs;
    this.epochStartToken = ByteString.copyFrom(resumeToken);
    start();
  }

  private void start() {
    ByteString token = lastToken.isEmpty() ? epochStartToken : lastToken;
    Call next = new Call();
    starter.start(replicas.stub(), epoch, token, next);
    // Publish only a started call; close() and this check see each other's writes (both volatile).
    call = next;
    if (closed) {
      next.cancel();
    }
  }

  @Override
  public boolean hasNext() {
    while (!finished && (pending == null || closed)) {
      if (closed) {
        finished = true;
        pending = null;
        call.events.clear();
        break;
      }
      Object event = take();
      if (closed) {
        continue;
      }
      if (event instanceof Batch b) {
        // A token whose epoch the caller did not know fixes the epoch; follow the server.
        epoch = b.epoch();
        failures = 0;
        pending = b;
      } else if (event == END) {
        failures = 0;
        if (--epochsLeft == 0) {
          finished = true;
        } else {
          epoch++;
          epochStartToken = ByteString.EMPTY;
          lastToken = ByteString.EMPTY;
          start();
        }
      } else if (event instanceof TrainFeedException e) {
        throw fail(e);
      } else {
        reconnectOrFail(Status.fromThrowable((Throwable) event));
      }
    }
    return pending != null;
  }

  private void reconnectOrFail(Status status) {
    if (replicas.isClosed()) {
      throw fail(new TrainFeedException(TrainFeedException.Code.CANCELLED, "the client is closed",
          status.asRuntimeException()));
    }
    if (!ReconnectPolicy.isRetriable(status)) {
      throw fail(ProtoMapping.exception(status, ""));
    }
    if (++failures > replicas.policy().attempts()) {
      throw fail(ProtoMapping.exception(status, replicas.giveUpNote(failures - 1)));
    }
    try {
      replicas.policy().pause(failures);
    } catch (TrainFeedException e) {
      throw fail(e);
    }
    replicas.rotate();
    start();
  }

  private TrainFeedException fail(TrainFeedException e) {
    finished = true;
    call.cancel();
    return e;
  }

  private Object take() {
    try {
      return call.events.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw fail(new TrainFeedException(TrainFeedException.Code.CANCELLED,
          "interrupted while waiting for the next batch", e));
    }
  }

  @Override
  public Batch next() {
    if (!hasNext()) {
      throw new NoSuchElementException(closed ? "the iterator is closed" : "no more batches");
    }
    Batch b = pending;
    pending = null;
    lastResumeToken = b.resumeToken();
    lastToken = ByteString.copyFrom(lastResumeToken.toBytes());
    call.request(1);
    return b;
  }

  @Override
  public Optional<ResumeToken> lastResumeToken() {
    return Optional.ofNullable(lastResumeToken);
  }

  @Override
  public void close() {
    closed = true;
    Call c = call;
    if (c != null) {
      c.cancel();
    }
  }

  /** One StreamBatches call: its events, in arrival order, and its flow control. */
  private final class Call implements ClientResponseObserver<Object,
      dev.trainfeed.proto.v1.Batch> {
    // Flow control bounds the batches; one slot for a conversion error, one for the call's end.
    final BlockingQueue<Object> events = new ArrayBlockingQueue<>(prefetch + 2);
    private volatile ClientCallStreamObserver<Object> requests;

    @Override
    public void beforeStart(ClientCallStreamObserver<Object> requestStream) {
      requests = requestStream;
      requestStream.disableAutoRequestWithInitial(prefetch);
    }

    @Override
    public void onNext(dev.trainfeed.proto.v1.Batch value) {
      try {
        events.add(ProtoMapping.batch(value));
      } catch (TrainFeedException e) {
        events.add(e);
        cancel();
      }
    }

    @Override
    public void onError(Throwable t) {
      events.offer(t);
    }

    @Override
    public void onCompleted() {
      events.offer(END);
    }

    void request(int n) {
      requests.request(n);
    }

    void cancel() {
      requests.cancel("closed by the client", null);
    }
  }
}
