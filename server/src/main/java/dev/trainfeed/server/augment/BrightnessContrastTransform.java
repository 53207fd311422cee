package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * Scales every value's distance from the sample's mean by a contrast factor drawn from
 * {@code [1 − contrast, 1 + contrast]}, then adds a brightness offset drawn from
 * {@code [−brightness, brightness] × range} (contrast drawn first).
 *
 * @param range the field's value range (255 for uint8, 1 for floats, or the normalize scale)
 */
record BrightnessContrastTransform(double probability, double brightness, double contrast,
    double range) implements Transform {
  @Override
  public int keyIndex() {
    return 7;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    double factor = 1 + contrast * (2 * random.nextDouble() - 1);
    double offset = brightness * range * (2 * random.nextDouble() - 1);
    adjust(image, factor, offset);
  }

  static void adjust(Image image, double factor, double offset) {
    double[] v = image.values;
    double sum = 0;
    for (double x : v) {
      sum += x;
    }
    double mean = sum / v.length;
    for (int i = 0; i < v.length; i++) {
      v[i] = (v[i] - mean) * factor + mean + offset;
    }
  }

  @Override
  public String canonical() {
    return "brightness_contrast(" + probability + "," + brightness + "," + contrast + ")";
  }
}
