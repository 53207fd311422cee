package dev.trainfeed.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a server process's Prometheus endpoint. */
final class Metrics {
  private Metrics() {}

  /** The text of {@code /metrics}. */
  static String scrape(ServerProcess s) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + s.metricsPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("/metrics answered " + r.statusCode());
    }
    return r.body();
  }

  /**
   * The sum of the samples of {@code name} whose labels contain {@code labels} (such as {@code
   * area="heap"}; empty for all).
   */
  static double value(ServerProcess s, String name, String labels) throws Exception {
    Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)$")
        .matcher(scrape(s));
    double sum = 0;
    while (m.find()) {
      if (labels.isEmpty() || (m.group(1) != null && m.group(1).contains(labels))) {
        sum += Double.parseDouble(m.group(2));
      }
    }
    return sum;
  }
}
