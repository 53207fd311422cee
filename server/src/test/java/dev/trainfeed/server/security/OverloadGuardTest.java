package dev.trainfeed.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OverloadGuardTest {
  @Test
  void aSaturatedServerAnswersResourceExhaustedAndRecovers() throws Exception {
    // One thread, two queue slots, refuse new calls from two queued tasks on.
    OverloadGuard guard = new OverloadGuard(1, 2, 2, OverloadGuardTest::daemon);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .executor(guard)
        .addService(new HealthStatusManager().getHealthService())
        .intercept(guard.interceptor())
        .build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
        .usePlaintext().build();
    try {
      HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(ch);
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      // Saturate: the thread and every queue slot wait on a latch.
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch started = new CountDownLatch(1);
      Semaphore finished = new Semaphore(0);
      Runnable blocker = () -> {
        started.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        finished.release();
      };
      guard.pool().execute(blocker);
      assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
      int blockers = 1;
      while (guard.pool().getQueue().remainingCapacity() > 0) {
        guard.pool().execute(blocker);
        blockers++;
      }
      assertThatThrownBy(() -> health.check(HealthCheckRequest.getDefaultInstance()))
          .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).startsWith("server is overloaded: 2 gRPC "
                + "callbacks are waiting for one of 1 threads");
          });
      assertThat(guard.shedCalls()).isEqualTo(1);
      release.countDown();
      assertThat(finished.tryAcquire(blockers, 30, TimeUnit.SECONDS)).isTrue();
      assertThat(health.check(HealthCheckRequest.getDefaultInstance()).getStatus())
          .isEqualTo(ServingStatus.SERVING);
      assertThat(guard.shedCalls()).isEqualTo(1);
    } finally {
      ch.shutdownNow();
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      guard.pool().shutdownNow();
    }
  }

  @Test
  void aFullQueueRunsTheTaskOnTheCallerUntilShutdown() throws Exception {
    OverloadGuard guard = new OverloadGuard(1, 1, 1, OverloadGuardTest::daemon);
    CountDownLatch release = new CountDownLatch(1);
    for (int i = 0; i < 2; i++) {
      guard.pool().execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    Thread[] ranOn = new Thread[1];
    guard.execute(() -> ranOn[0] = Thread.currentThread());
    assertThat(ranOn[0]).as("grpc's task is never dropped").isSameAs(Thread.currentThread());
    release.countDown();
    guard.pool().shutdown();
    assertThat(guard.pool().awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> guard.execute(() -> {}))
        .isInstanceOf(RejectedExecutionException.class);
  }

  @Test
  void rejectsSettingsThatCannotWork() {
    assertThatThrownBy(() -> new OverloadGuard(1, 4, 5, Thread::new))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("shedAt=5");
    assertThatThrownBy(() -> new OverloadGuard(0, 4, 2, Thread::new))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("threads=0");
  }

  private static Thread daemon(Runnable r) {
    Thread t = new Thread(r, "test-grpc");
    t.setDaemon(true);
    return t;
  }
}
