package dev.trainfeed.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.ModelInfo;
import dev.trainfeed.client.ResumeToken;
import dev.trainfeed.client.TrainFeedClient;
import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.server.synth.CudaLibraries;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Synthesis against a real server process with the bundled models on CPU: the Java SDK
 * ({@code models()}, {@code synthesize}, {@code synthetic}), a Python client generated from the
 * {@code .proto}, the metrics, and the {@code --device cuda} startup error on this GPU-less host.
 */
class SynthesisIT {
  @TempDir Path tmp;

  private static Path root() {
    return Path.of(System.getProperty("trainfeed.repo.root", "..")).toAbsolutePath().normalize();
  }

  private Path ingestDigits() {
    Path data = tmp.resolve("data");
    int rc = dev.trainfeed.server.cli.Main.run(new String[] {"ingest", "--data-dir",
        data.toString(), "--name", "digits", "--npy", root().resolve("data/digits").toString(),
        "--chunk-size", "4k", "--quiet"}, Map.of());
    assertThat(rc).isZero();
    return data;
  }

  private static byte[] images(BatchIterator it, List<Batch> keep) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (it.hasNext()) {
      Batch b = it.next();
      keep.add(b);
      out.writeBytes(b.tensor("image").toByteArray());
    }
    return out.toByteArray();
  }

  @Test
  void javaSdkSynthesizesMixesAndResumes() throws Exception {
    Path data = ingestDigits();
    try (ServerProcess server = ServerProcess.start(data, 0, "--models",
        root().resolve("models").toString(), "--device", "cpu");
        TrainFeedClient client = TrainFeedClient.builder().target(server.target()).build()) {
      List<ModelInfo> models = client.models();
      assertThat(models).extracting(ModelInfo::name).contains("digits-cgan", "digits-vae");
      ModelInfo gan = models.stream().filter(m -> m.name().equals("digits-cgan")).findFirst()
          .orElseThrow();
      assertThat(gan.provider()).isEqualTo("cpu");
      assertThat(gan.conditional()).isTrue();

      List<Batch> first = new ArrayList<>();
      byte[] a;
      try (BatchIterator it = client.synthesize("digits-cgan").count(100).batchSize(32)
          .seed(5).open()) {
        a = images(it, first);
      }
      assertThat(a).hasSize(100 * 64);
      assertThat(first.get(0).isSynthetic(0)).isTrue();
      try (BatchIterator it = client.synthesize("digits-cgan").count(100).batchSize(9).seed(5)
          .open()) {
        assertThat(images(it, new ArrayList<>())).isEqualTo(a);
      }
      ResumeToken token = first.get(1).resumeToken();
      try (BatchIterator it = client.synthesize("digits-cgan").count(100).batchSize(32).seed(5)
          .resumeFrom(token).open()) {
        byte[] rest = images(it, new ArrayList<>());
        assertThat(rest).isEqualTo(java.util.Arrays.copyOfRange(a, 64 * 64, a.length));
      }
      assertThatThrownBy(() -> {
        try (BatchIterator it = client.synthesize("digits-vae").count(4).batchSize(2)
            .classLabel(1).open()) {
          it.hasNext();
        }
      }).isInstanceOfSatisfying(TrainFeedException.class,
          e -> assertThat(e.code()).isEqualTo(TrainFeedException.Code.INVALID_ARGUMENT));

      int synthetic = 0;
      int real = 0;
      try (BatchIterator it = client.batches("digits").batchSize(32).shuffle(1)
          .synthetic("digits-cgan", 0.25).open()) {
        while (it.hasNext()) {
          Batch b = it.next();
          for (int i = 0; i < b.size(); i++) {
            if (b.isSynthetic(i)) {
              synthetic++;
              assertThat(b.sampleIds()[i]).isGreaterThanOrEqualTo(1797);
            } else {
              real++;
            }
          }
        }
      }
      assertThat(real).isEqualTo(1797);
      assertThat(synthetic).isEqualTo(8 * (int) Math.ceil(1797 / 24.0));

      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + server.metricsPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).containsPattern(
          "trainfeed_synth_samples_total\\{model=\"digits-cgan\",provider=\"cpu\"} [1-9]");
      assertThat(metrics).contains("trainfeed_synth_batch_seconds_bucket");
    }
  }

  @Test
  void explicitCudaOnAHostWithoutItStopsTheStartWithAClearMessage() throws Exception {
    // On a GPU host with CUDA 12 and cuDNN 9 the start may well succeed: nothing to check there.
    Assumptions.assumeFalse(CudaLibraries.probe().missing().isEmpty(),
        "this host has the CUDA libraries");
    Path data = ingestDigits();
    assertThatThrownBy(() -> ServerProcess.start(data, 0, "--models",
        root().resolve("models").toString(), "--device", "cuda"))
        .hasMessageContaining("--device cuda:0 needs CUDA 12 and cuDNN 9");
  }

  @Test
  void pythonClientListsSynthesizesResumesAndMixes() throws Exception {
    Path data = ingestDigits();
    Path gen = Files.createDirectories(tmp.resolve("gen"));
    Commands.pythonStubs(root(), tmp, gen);
    try (ServerProcess server = ServerProcess.start(data, 0, "--models",
        root().resolve("models").toString(), "--device", "cpu")) {
      String out = Commands.run(tmp, Map.of("PYTHONPATH", gen.toString()), "/usr/bin/python3",
          root().resolve("integration-tests/src/test/python/synth_client.py").toString(),
          server.target(), "digits");
      assertThat(out).contains(" checks ok, 0 failed");
    }
  }
}
