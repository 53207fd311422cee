package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * One random transform of an augmentation plan. Whether it fires for a sample is the first draw
 * of its own generator ({@code nextDouble() < probability}); its parameters are the next draws of
 * the same generator, so each transform's choices are independent of the others'.
 */
interface Transform {
  /**
   * This transform's number in the key derivation: the field number of its sub-message in
   * {@code AugmentSpec}, so that adding a transform never changes another's choices.
   */
  int keyIndex();

  /** Probability in [0, 1] that the transform applies to a sample. */
  double probability();

  /** Applies the transform to {@code image} in place, drawing its parameters from {@code random}. */
  void apply(Image image, SplitMix64 random);

  /** A canonical text of the transform's settings, which the stream's augment digest covers. */
  String canonical();
}
