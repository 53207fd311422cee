package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.demo.DemoMain;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code trainfeed bench --embedded --baseline} on a small synthetic dataset of many chunks, over
 * real loopback sockets: one JSON line with every promised key and sane values (no timing
 * thresholds: speed is judged by running the bench, not by tests).
 */
class BenchIT {

  @Test
  void embeddedBenchPrintsOneJsonLineWithEveryKey() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = DemoMain.run(new String[] {"bench", "--embedded", "--dataset-bytes", "6m",
        "--sample-bytes", "1000", "--chunk-size", "128k", "--batch-size", "64", "--streams", "2",
        "--epochs", "1", "--warmup-epochs", "1", "--warmup-seconds", "0",
        "--warmup-max-seconds", "0", "--baseline"},
        new PrintWriter(out, true), new PrintWriter(err, true));
    assertThat(rc).as("stderr: %s", err).isZero();
    String[] lines = out.toString().strip().split("\n");
    assertThat(lines).hasSize(1);
    Map<String, String> json = parse(lines[0]);
    for (String key : new String[] {"samples_per_s", "bytes_per_s", "p50_ms", "p99_ms",
        "stall_fraction", "hit_ratio", "hit_ceiling", "baseline_bytes_per_s", "vs_baseline",
        "baseline_hot_bytes_per_s", "vs_baseline_hot", "warmup_seconds", "jit_fraction"}) {
      assertThat(json).containsKey(key);
      assertThat(json.get(key)).as(key).isNotEqualTo("null");
    }
    assertThat(num(json, "samples_per_s")).isPositive();
    assertThat(num(json, "bytes_per_s")).isGreaterThan(num(json, "samples_per_s"));
    assertThat(num(json, "p50_ms")).isNotNegative().isLessThanOrEqualTo(num(json, "p99_ms"));
    assertThat(num(json, "stall_fraction")).isBetween(0.0, 1.0);
    // The embedded cache holds the whole dataset and the warm-up epoch filled it.
    assertThat(num(json, "hit_ceiling")).isEqualTo(1.0);
    assertThat(num(json, "hit_ratio")).isEqualTo(1.0);
    assertThat(num(json, "baseline_bytes_per_s")).isPositive();
    assertThat(num(json, "vs_baseline")).isPositive();
    assertThat(num(json, "baseline_hot_bytes_per_s")).isPositive();
    // --warmup-max-seconds 0: one warm-up epoch, whatever the JIT is doing.
    assertThat(num(json, "warmup_seconds")).isPositive();
    assertThat(num(json, "jit_fraction")).isNotNegative();
    assertThat(json).containsKey("warmup_jit_fraction");
    assertThat(err.toString()).contains("bench: ingesting");
  }

  private static Map<String, String> parse(String line) {
    assertThat(line).startsWith("{").endsWith("}");
    Map<String, String> out = new HashMap<>();
    Matcher m = Pattern.compile("\"([a-z_0-9]+)\": ([^,}]+)").matcher(line);
    while (m.find()) {
      out.put(m.group(1), m.group(2).strip());
    }
    return out;
  }

  private static double num(Map<String, String> json, String key) {
    return Double.parseDouble(json.get(key));
  }
}
