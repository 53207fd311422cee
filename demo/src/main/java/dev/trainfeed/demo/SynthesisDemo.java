package dev.trainfeed.demo;

import dev.trainfeed.client.Batch;
import dev.trainfeed.client.BatchIterator;
import dev.trainfeed.client.ModelInfo;
import dev.trainfeed.client.TrainFeedClient;
import java.util.List;
import java.util.Locale;

/**
 * The synthesis part of the demo: lists the server's models, synthesizes digits from the bundled
 * conditional GAN (printing the execution provider and samples/s), then trains one epoch with a
 * quarter of every batch synthetic and checks that every real sample still arrives exactly once.
 */
final class SynthesisDemo {
  /** The bundled class-conditional GAN. */
  static final String MODEL = "digits-cgan";

  private SynthesisDemo() {}

  /** Runs the steps; returns false when a check fails, true also when no model is loaded. */
  static boolean run(TrainFeedClient client, int numSamples, int batchSize, long seed,
      SoftmaxRegression model) {
    List<ModelInfo> models = client.models();
    ModelInfo gan = models.stream().filter(m -> m.name().equals(MODEL)).findFirst().orElse(null);
    if (gan == null) {
      System.out.println("== 5. synthesis skipped: model " + MODEL + " is not loaded (models: "
          + models.stream().map(ModelInfo::name).toList() + ")");
      return true;
    }
    System.out.printf(Locale.ROOT, "== 5. synthesize from %s (%s, latent %d, %s) on provider %s%n",
        gan.name(), gan.kind(), gan.latentDim(), gan.conditional() ? "conditional" : "unconditional",
        gan.provider());
    int count = 4096;
    long start = System.nanoTime();
    long got = 0;
    try (BatchIterator it = client.synthesize(MODEL).count(count).batchSize(256).seed(seed)
        .open()) {
      while (it.hasNext()) {
        got += it.next().size();
      }
    }
    double secs = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "   %d synthetic samples in %.2f s: %.0f samples/s on %s%n",
        got, secs, got / secs, gan.provider());
    boolean ok = got == count;

    System.out.printf(Locale.ROOT, "== 6. one epoch with 25%% synthetic samples per batch of %d%n",
        batchSize);
    int[] seen = new int[numSamples];
    long synthetic = 0;
    int correct = 0;
    int counted = 0;
    try (BatchIterator it = client.batches("digits").batchSize(batchSize).shuffle(seed).epoch(0)
        .fields("image", "label").synthetic(MODEL, 0.25).open()) {
      while (it.hasNext()) {
        Batch b = it.next();
        float[] x = b.tensor("image").toFloatArray(1f / 16f);
        long[] y = b.tensor("label").toLongArray();
        model.step(new double[][] {model.gradient(x, y, new double[1])});
        for (int i = 0; i < b.size(); i++) {
          if (b.isSynthetic(i)) {
            synthetic++;
            // The trained classifier should recognise the class the GAN was asked for.
            correct += model.predict(x, i) == y[i] ? 1 : 0;
            counted++;
          } else {
            seen[(int) b.sampleIds()[i]]++;
          }
        }
      }
    }
    int wrong = 0;
    for (int c : seen) {
      wrong += c == 1 ? 0 : 1;
    }
    ok &= wrong == 0 && synthetic > 0;
    System.out.printf(Locale.ROOT, "   %d real samples each exactly once: %s; %d synthetic samples; "
        + "the classifier agrees with the GAN's class on %.1f%% of them%n", numSamples,
        wrong == 0 ? "yes" : "NO", synthetic, 100.0 * correct / Math.max(1, counted));
    return ok;
  }
}
