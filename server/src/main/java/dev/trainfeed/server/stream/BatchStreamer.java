package dev.trainfeed.server.stream;

import dev.trainfeed.server.metrics.ServerMetrics;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Sends one stream's batches under gRPC flow control: a batch is built only when the call is ready
 * to take it, so nothing queues without bound however slow the reader. One drain task at a time
 * runs on the stream executor; it yields after a few batches so streams share the executor fairly.
 */
final class BatchStreamer<T> implements Runnable {
  /** Batches one drain task sends before giving the executor to other streams. */
  private static final int BATCHES_PER_TURN = 8;

  private final BatchSource assembler;
  private final ServerCallStreamObserver<T> call;
  private final Function<BatchPayload, T> message;
  private final Executor executor;
  private final ServerMetrics metrics;
  private final Consumer<BatchStreamer<?>> onFinish;
  private final long endBatch;
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final AtomicBoolean released = new AtomicBoolean();
  private volatile boolean cancelled;
  private volatile Status abort;
  private long next;

  /**
   * @param message turns an assembled batch into what {@code call} sends: the payload itself
   *     under {@link BatchMarshaller}, or the generated message under the generated binding
   */
  BatchStreamer(StreamPlan plan, BatchAssembler assembler, ServerCallStreamObserver<T> call,
      Function<BatchPayload, T> message, Executor executor, ServerMetrics metrics,
      Consumer<BatchStreamer<?>> onFinish) {
    this(assembler, plan.firstBatch(), plan.shard().numBatches(), call, message, executor,
        metrics, onFinish);
  }

  /** A streamer over any batch source, sending batches {@code [firstBatch, endBatch)}. */
  BatchStreamer(BatchSource assembler, long firstBatch, long endBatch,
      ServerCallStreamObserver<T> call, Function<BatchPayload, T> message, Executor executor,
      ServerMetrics metrics, Consumer<BatchStreamer<?>> onFinish) {
    this.assembler = assembler;
    this.call = call;
    this.message = message;
    this.executor = executor;
    this.metrics = metrics;
    this.onFinish = onFinish;
    this.next = firstBatch;
    this.endBatch = endBatch;
  }

  /** Installs the flow-control and cancellation handlers and starts sending. */
  void start(int onReadyThresholdBytes) {
    metrics.streamOpened();
    call.setOnCancelHandler(() -> {
      cancelled = true;
      finish();
      releaseWhenIdle();
    });
    call.setOnReadyThreshold(onReadyThresholdBytes);
    call.setOnReadyHandler(this::schedule);
    schedule();
  }

  /** Ends the stream with {@code status} at the next batch boundary (server shutdown). */
  void abort(Status status) {
    abort = status;
    schedule();
  }

  private void schedule() {
    if (!finished.get() && draining.compareAndSet(false, true)) {
      executor.execute(this);
    }
  }

  @Override
  public void run() {
    int sent = 0;
    try {
      while (!cancelled && !finished.get()) {
        Status a = abort;
        if (a != null) {
          finish();
          call.onError(a.asRuntimeException());
          return;
        }
        if (next >= endBatch) {
          finish();
          call.onCompleted();
          return;
        }
        if (!call.isReady() || sent == BATCHES_PER_TURN) {
          break;
        }
        BatchPayload batch = assembler.assemble(next);
        // gRPC marshals inside onNext, so the chunk slices are read before it returns.
        call.onNext(message.apply(batch));
        metrics.batchSent(batch.serializedSize());
        next++;
        sent++;
      }
    } catch (Throwable t) {
      try {
        finish();
      } finally {
        if (!cancelled) {
          call.onError(Errors.toStatus(t).asRuntimeException());
        }
      }
      return;
    } finally {
      if (finished.get() && released.compareAndSet(false, true)) {
        // Only the drain task touches the assembler, so the chunks are let go here.
        assembler.release();
      }
      draining.set(false);
    }
    // An onReady that fired while this task ran found it busy; look again so none is lost.
    releaseWhenIdle();
    if (!cancelled && !finished.get() && (sent == BATCHES_PER_TURN || call.isReady()
        || abort != null)) {
      schedule();
    }
  }

  /**
   * Lets the source go once the stream finished, if no drain task runs now (a cancel that comes
   * while the stream waits for flow control has no drain task to do it).
   */
  private void releaseWhenIdle() {
    if (finished.get() && !released.get() && draining.compareAndSet(false, true)) {
      try {
        if (released.compareAndSet(false, true)) {
          assembler.release();
        }
      } finally {
        draining.set(false);
      }
    }
  }

  /**
   * Takes the stream out of the service's set, its {@code --max-streams} count and the gauges.
   * Called before the call's final {@code onCompleted}/{@code onError}, so that a client that has
   * seen its stream end finds it uncounted: its next stream is not refused over the limit, and a
   * scrape shows the gauges without it.
   */
  private void finish() {
    if (finished.compareAndSet(false, true)) {
      assembler.endLookahead();
      // Leave the service's set before the gauge drops, so whoever sees the gauge at zero also
      // finds the set empty (the service's drain and tests read them in that order).
      onFinish.accept(this);
      metrics.streamClosed();
    }
  }
}
