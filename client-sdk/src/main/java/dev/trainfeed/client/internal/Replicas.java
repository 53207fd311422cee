package dev.trainfeed.client.internal;

import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.proto.v1.DataPlaneGrpc;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The channels to the replicas of one deployment, all serving the same data, and the one in use.
 * Callers move to the next replica with {@link #rotate()} after a retriable failure.
 */
public final class Replicas implements AutoCloseable {
  private final List<ManagedChannel> channels;
  private final List<DataPlaneGrpc.DataPlaneStub> stubs = new ArrayList<>();
  private final List<DataPlaneGrpc.DataPlaneBlockingStub> blockingStubs = new ArrayList<>();
  private final List<String> names;
  private final boolean ownsChannels;
  private final ReconnectPolicy policy;
  private final AtomicInteger current = new AtomicInteger();
  private volatile boolean closed;

  /**
   * Creates the replica set.
   *
   * @param channels one channel per replica, at least one
   * @param names the replicas' targets, for error messages
   * @param ownsChannels whether {@link #close()} shuts the channels down
   * @param interceptors interceptors for every call (authentication)
   * @param maxInboundMessageBytes largest message accepted, in bytes
   * @param policy reconnect policy for every call
   */
  public Replicas(List<ManagedChannel> channels, List<String> names, boolean ownsChannels,
      List<ClientInterceptor> interceptors, int maxInboundMessageBytes, ReconnectPolicy policy) {
    this.channels = List.copyOf(channels);
    this.names = List.copyOf(names);
    this.ownsChannels = ownsChannels;
    this.policy = policy;
    ClientInterceptor[] chain = interceptors.toArray(new ClientInterceptor[0]);
    for (ManagedChannel channel : this.channels) {
      stubs.add(DataPlaneGrpc.newStub(channel).withInterceptors(chain)
          .withMaxInboundMessageSize(maxInboundMessageBytes));
      blockingStubs.add(DataPlaneGrpc.newBlockingStub(channel).withInterceptors(chain)
          .withMaxInboundMessageSize(maxInboundMessageBytes));
    }
  }

  /** Returns the async stub of the replica in use. */
  public DataPlaneGrpc.DataPlaneStub stub() {
    return stubs.get(current.get());
  }

  /** Moves to the next replica, round robin. */
  public void rotate() {
    current.updateAndGet(i -> (i + 1) % channels.size());
  }

  /** Returns the reconnect policy. */
  public ReconnectPolicy policy() {
    return policy;
  }

  /** Returns whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /** Returns a note for a final error: how many attempts were made over which replicas. */
  public String giveUpNote(int attempts) {
    return " (gave up after " + attempts + " reconnect attempts over " + names + ")";
  }

  /**
   * Runs a unary call, reconnecting as the policy allows.
   *
   * @throws TrainFeedException if the call fails for good
   */
  public <T> T call(Function<DataPlaneGrpc.DataPlaneBlockingStub, T> call) {
    for (int failures = 0; ; ) {
      try {
        return call.apply(blockingStubs.get(current.get()));
      } catch (StatusRuntimeException e) {
        if (closed) {
          throw new TrainFeedException(TrainFeedException.Code.CANCELLED, "the client is closed", e);
        }
        if (!ReconnectPolicy.isRetriable(e.getStatus())) {
          throw ProtoMapping.exception(e.getStatus(), "");
        }
        if (++failures > policy.attempts()) {
          throw ProtoMapping.exception(e.getStatus(), giveUpNote(failures - 1));
        }
        policy.pause(failures);
        rotate();
      }
    }
  }

  /** Cancels every call and, when this set owns them, shuts the channels down. */
  @Override
  public void close() {
    closed = true;
    if (!ownsChannels) {
      return;
    }
    channels.forEach(ManagedChannel::shutdownNow);
    try {
      for (ManagedChannel channel : channels) {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
