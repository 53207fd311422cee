package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * Pads the image with {@code padding} zero pixels on each side, then crops a window of the input
 * size at a random offset: row offset first, then column offset, each uniform in
 * {@code [0, 2·padding]}. Offset {@code padding} in both is the identity.
 */
record CropTransform(double probability, int padding) implements Transform {
  @Override
  public int keyIndex() {
    return 5;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    int oy = (int) random.nextBounded(2L * padding + 1);
    int ox = (int) random.nextBounded(2L * padding + 1);
    shift(image, oy - padding, ox - padding);
  }

  /** Output (y, x) = input (y + dy, x + dx), or 0 outside the input. */
  static void shift(Image image, int dy, int dx) {
    double[] src = image.values;
    double[] dst = image.spare;
    int h = image.height;
    int w = image.width;
    for (int c = 0; c < image.channels; c++) {
      for (int y = 0; y < h; y++) {
        int sy = y + dy;
        for (int x = 0; x < w; x++) {
          int sx = x + dx;
          dst[image.at(c, y, x)] = sy < 0 || sy >= h || sx < 0 || sx >= w ? 0
              : src[image.at(c, sy, sx)];
        }
      }
    }
    image.swap();
  }

  @Override
  public String canonical() {
    return "crop(" + probability + "," + padding + ")";
  }
}
