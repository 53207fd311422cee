package dev.trainfeed.demo;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * One reading of a server's Prometheus {@code /metrics} page: each metric's value summed over its
 * label sets. The bench takes one before and one after the measured epochs and uses the deltas.
 */
final class PrometheusScrape {
  private final Map<String, Double> sums;

  private PrometheusScrape(Map<String, Double> sums) {
    this.sums = sums;
  }

  /**
   * One client for every scrape: building one starts a selector thread and loads the JDK's trust
   * store (even for plain HTTP), work the bench must not repeat, or leave for the JIT to compile,
   * inside a measured phase.
   */
  private static final class Http {
    static final HttpClient CLIENT =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  }

  /**
   * Reads {@code http://HOST:PORT/metrics}.
   *
   * @throws IOException when the page cannot be read (wrong port, metrics off)
   */
  static PrometheusScrape of(String hostPort) throws IOException {
    HttpClient http = Http.CLIENT;
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + hostPort + "/metrics"))
        .timeout(Duration.ofSeconds(10)).GET().build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException("GET http://" + hostPort + "/metrics answered "
            + response.statusCode());
      }
      return parse(response.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading http://" + hostPort + "/metrics", e);
    }
  }

  /** Parses the Prometheus text format, summing samples of the same name over their labels. */
  static PrometheusScrape parse(String text) {
    Map<String, Double> sums = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space = line.lastIndexOf(' ');
      if (space < 0) {
        continue;
      }
      String name = brace >= 0 && brace < space ? line.substring(0, brace)
          : line.substring(0, line.indexOf(' '));
      String value = line.substring(space + 1).strip();
      try {
        sums.merge(name, Double.parseDouble(value), Double::sum);
      } catch (NumberFormatException e) {
        // A sample the format allows but this reader does not need (for example a timestamp).
      }
    }
    return new PrometheusScrape(sums);
  }

  /** The summed value of {@code name}, or NaN when the page has no such metric. */
  double value(String name) {
    return sums.getOrDefault(name, Double.NaN);
  }
}
