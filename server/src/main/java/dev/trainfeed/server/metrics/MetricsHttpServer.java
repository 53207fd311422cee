package dev.trainfeed.server.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** Serves the Prometheus text format at {@code /metrics} on its own port. */
public final class MetricsHttpServer implements AutoCloseable {
  private final HttpServer http;
  private final ExecutorService executor;

  /**
   * Starts serving.
   *
   * @param bind address to bind
   * @param port port, 0 for any free one
   * @param registry the registry to scrape
   */
  public MetricsHttpServer(String bind, int port, PrometheusMeterRegistry registry)
      throws IOException {
    this.http = HttpServer.create(new InetSocketAddress(bind, port), 16);
    this.executor = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "trainfeed-metrics-http");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(executor);
    http.createContext("/metrics", exchange -> {
      try (exchange) {
        if (!exchange.getRequestMethod().equals("GET")
            && !exchange.getRequestMethod().equals("HEAD")) {
          exchange.sendResponseHeaders(405, -1);
          return;
        }
        byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type",
            "text/plain; version=0.0.4; charset=utf-8");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    });
    http.createContext("/", exchange -> {
      try (exchange) {
        exchange.sendResponseHeaders(404, -1);
      }
    });
    http.start();
  }

  /** The port actually bound. */
  public int port() {
    return http.getAddress().getPort();
  }

  @Override
  public void close() {
    http.stop(0);
    executor.shutdownNow();
  }
}
