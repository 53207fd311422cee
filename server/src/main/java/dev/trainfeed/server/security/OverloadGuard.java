package dev.trainfeed.server.security;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gRPC executor, bounded, with overload answered by a status instead of a dropped call.
 *
 * <p>grpc-java does not handle an executor that rejects: the {@code RejectedExecutionException}
 * surfaces in Netty's {@code onHeadersRead}/{@code onDataRead}, the stream is reset with a bare
 * {@code INTERNAL} (grpc-java issues #636, #8070), and a rejected {@code closed} callback never
 * reaches the service, so its stream would stay counted as active. So this executor never drops
 * grpc's work: once its queue is full, the task runs on the submitting transport thread, which
 * also stops that connection from reading more until it is done (back-pressure). New calls are
 * shed earlier, by {@link #interceptor()}: while the queue holds {@code shedAt} or more tasks,
 * a new call is closed at once with {@code RESOURCE_EXHAUSTED "server is overloaded…"}, before
 * any service code runs; calls already admitted continue.
 */
public final class OverloadGuard implements Executor {
  private final ThreadPoolExecutor pool;
  private final int queueCapacity;
  private final int shedAt;
  private final AtomicLong shed = new AtomicLong();

  /**
   * @param threads worker threads (at least 1); idle ones time out after 60 s
   * @param queueCapacity tasks that may wait for a thread (at least 1)
   * @param shedAt queued tasks from which new calls are refused, 1 to {@code queueCapacity}
   * @param threadFactory makes the worker threads
   */
  public OverloadGuard(int threads, int queueCapacity, int shedAt, ThreadFactory threadFactory) {
    if (threads < 1 || queueCapacity < 1 || shedAt < 1 || shedAt > queueCapacity) {
      throw new IllegalArgumentException("need threads >= 1, queueCapacity >= 1 and 1 <= shedAt "
          + "<= queueCapacity, got threads=" + threads + ", queueCapacity=" + queueCapacity
          + ", shedAt=" + shedAt);
    }
    // Core = max: a ThreadPoolExecutor only grows past its core size once the queue is full.
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queueCapacity), threadFactory);
    pool.allowCoreThreadTimeOut(true);
    this.queueCapacity = queueCapacity;
    this.shedAt = shedAt;
  }

  /** Runs {@code task} on a worker, or on the calling thread while every queue slot is taken. */
  @Override
  public void execute(Runnable task) {
    try {
      pool.execute(task);
    } catch (RejectedExecutionException full) {
      if (pool.isShutdown()) {
        throw full;
      }
      task.run();
    }
  }

  /** Closes new calls with {@code RESOURCE_EXHAUSTED} while the queue is at or past the mark. */
  public ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        int queued = pool.getQueue().size();
        if (queued < shedAt) {
          return next.startCall(call, headers);
        }
        shed.incrementAndGet();
        call.close(Status.RESOURCE_EXHAUSTED.withDescription("server is overloaded: " + queued
            + " gRPC callbacks are waiting for one of " + pool.getMaximumPoolSize()
            + " threads (new calls are refused from " + shedAt + " of " + queueCapacity
            + "); retry with backoff"), new Metadata());
        return new ServerCall.Listener<>() {};
      }
    };
  }

  /** Calls refused with {@code RESOURCE_EXHAUSTED} so far. */
  public long shedCalls() {
    return shed.get();
  }

  /** The pool underneath, for shutdown and for tests. */
  public ThreadPoolExecutor pool() {
    return pool;
  }
}
