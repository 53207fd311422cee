package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/** Mirrors the image left to right (reverses the width axis). */
record FlipTransform(double probability) implements Transform {
  @Override
  public int keyIndex() {
    return 3;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    flip(image);
  }

  static void flip(Image image) {
    double[] v = image.values;
    for (int row = 0; row < image.channels * image.height; row++) {
      for (int i = row * image.width, j = i + image.width - 1; i < j; i++, j--) {
        double t = v[i];
        v[i] = v[j];
        v[j] = t;
      }
    }
  }

  @Override
  public String canonical() {
    return "horizontal_flip(" + probability + ")";
  }
}
