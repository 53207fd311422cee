package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of a server's Prometheus endpoint, read by metric name. */
final class ScrapedMetrics {
  private final String text;

  private ScrapedMetrics(String text) {
    this.text = text;
  }

  /** Scrapes {@code http://127.0.0.1:PORT/metrics}. */
  static ScrapedMetrics scrape(int metricsPort) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return new ScrapedMetrics(r.body());
  }

  /** The sum of every sample of {@code name} over its tags; 0 when absent. */
  double get(String name) {
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(text);
    double sum = 0;
    while (m.find()) {
      sum += Double.parseDouble(m.group(1));
    }
    return sum;
  }

  /** Whether a sample of {@code name} appears at all. */
  boolean has(String name) {
    return Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ").matcher(text).find();
  }
}
