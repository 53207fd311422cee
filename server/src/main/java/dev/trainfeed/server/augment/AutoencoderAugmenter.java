package dev.trainfeed.server.augment;

import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;

/**
 * An autoencoder that augments real samples (encode, perturb or interpolate in latent space,
 * decode), as {@code AugmentSpec.autoencoder} asks. The synthesis stage implements it; this
 * package decides which samples it sees and with which keys, so that augmented streams resume
 * exactly.
 *
 * <p>Contract: the output for a sample must be a pure function of (model version, the sample's
 * bytes, its key, mode, strength), never of its batch mates; implementations draw latent noise
 * from the key with a counter-based generator.
 */
public interface AutoencoderAugmenter {
  /** How the latent code is changed. */
  enum Mode {
    /** Adds Gaussian noise of standard deviation {@code strength} to the latent code. */
    PERTURB,
    /** Moves the latent code towards another code by a weight of at most {@code strength}. */
    INTERPOLATE
  }

  /** The model's version (SHA-256 of model file and descriptor); the augment digest covers it. */
  String version();

  /**
   * Checks that the model reconstructs {@code field} (same dtype and sample shape).
   *
   * @throws IllegalArgumentException naming {@code augment.autoencoder.model} and what differs
   */
  void checkField(FieldSpec field);

  /**
   * Replaces, in place, each selected sample of {@code samples} (consecutive samples of {@code
   * field}, little-endian, C order) with its augmented reconstruction in the field's dtype.
   *
   * @param keys one 64-bit key per sample, the seed of its latent noise
   * @param selected which samples to augment; others must stay byte for byte
   * @throws IOException when the model fails to run
   */
  void augment(FieldSpec field, Mode mode, double strength, long[] keys, boolean[] selected,
      byte[] samples) throws IOException;
}
