package dev.trainfeed.server.synth;

import ai.onnxruntime.OrtException;
import dev.trainfeed.server.augment.AutoencoderAugmenter;
import dev.trainfeed.server.augment.AutoencoderModels;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The registry's VAE and AE models as {@code AugmentSpec.autoencoder} augmenters: encode to the
 * latent mean, change it (perturb: add N(0, strength²) noise; interpolate: move towards a latent
 * drawn from the prior N(0, I) by a weight drawn from [0, strength]), decode. All noise comes from
 * {@link CounterRng} keyed by the sample's key, so a sample's result never depends on its batch
 * mates. The model is acquired for each batch; a model replaced while a stream runs makes that
 * stream fail with a message (its resume token pins the old version), never silently change.
 */
public final class AutoencoderAugmenters implements AutoencoderModels {
  private final ModelRegistry models;

  private AutoencoderAugmenters(ModelRegistry models) {
    this.models = models;
  }

  /** The autoencoders among {@code models}. */
  public static AutoencoderModels from(ModelRegistry models) {
    return new AutoencoderAugmenters(models);
  }

  @Override
  public Optional<AutoencoderAugmenter> find(String name) {
    Optional<LoadedModel> found = models.acquire(name);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    LoadedModel m = found.get();
    try {
      if (m.descriptor().kind() == ModelDescriptor.Kind.GAN) {
        throw new IllegalArgumentException("augment.autoencoder.model: '" + name + "' is a gan "
            + "and has no encoder; name a vae or ae model from ListModels");
      }
      return Optional.of(new Augmenter(name, m.version(), m.outputs().get(0)));
    } finally {
      m.release();
    }
  }

  private final class Augmenter implements AutoencoderAugmenter {
    private final String name;
    private final String version;
    private final FieldSpec output;

    Augmenter(String name, String version, FieldSpec output) {
      this.name = name;
      this.version = version;
      this.output = output;
    }

    @Override
    public String version() {
      return version;
    }

    @Override
    public void checkField(FieldSpec field) {
      if (field.dtype() != output.dtype() || !Arrays.equals(field.shape(), output.shape())) {
        throw new IllegalArgumentException("augment.autoencoder.model: '" + name + "' "
            + "reconstructs " + output.dtype().manifestName() + Arrays.toString(output.shape())
            + ", but field '" + field.name() + "' is " + field.dtype().manifestName()
            + Arrays.toString(field.shape()));
      }
    }

    @Override
    public void augment(FieldSpec field, Mode mode, double strength, long[] keys,
        boolean[] selected, byte[] samples) throws IOException {
      int n = keys.length;
      int sampleBytes = (int) field.sampleBytes();
      int count = 0;
      for (boolean s : selected) {
        count += s ? 1 : 0;
      }
      if (count == 0) {
        return;
      }
      byte[] picked = new byte[count * sampleBytes];
      for (int i = 0, j = 0; i < n; i++) {
        if (selected[i]) {
          System.arraycopy(samples, i * sampleBytes, picked, j++ * sampleBytes, sampleBytes);
        }
      }
      LoadedModel m = models.acquire(name).orElseThrow(() -> new IOException(
          "autoencoder '" + name + "' was removed while the stream ran"));
      try {
        if (!m.version().equals(version)) {
          throw new IOException("autoencoder '" + name + "' was replaced while the stream ran; "
              + "open the stream again to use the new version");
        }
        int dim = m.descriptor().latentDim();
        float[] z = m.encode(picked, count, null).mean();
        float[] noise = new float[dim];
        for (int i = 0, j = 0; i < n; i++) {
          if (!selected[i]) {
            continue;
          }
          CounterRng.normals(keys[i], 0, CounterRng.STREAM_NOISE, dim, noise, 0);
          double w = mode == Mode.INTERPOLATE
              ? strength * CounterRng.uniform(keys[i], 1, CounterRng.STREAM_NOISE, 0) : 0;
          for (int d = 0; d < dim; d++) {
            float v = z[j * dim + d];
            z[j * dim + d] = mode == Mode.PERTURB ? (float) (v + strength * noise[d])
                : (float) ((1 - w) * v + w * noise[d]);
          }
          j++;
        }
        byte[] decoded = m.decode(z, count);
        for (int i = 0, j = 0; i < n; i++) {
          if (selected[i]) {
            System.arraycopy(decoded, j++ * sampleBytes, samples, i * sampleBytes, sampleBytes);
          }
        }
      } catch (OrtException e) {
        throw new IOException("autoencoder '" + name + "' failed: " + e.getMessage(), e);
      } finally {
        m.release();
      }
    }
  }
}
