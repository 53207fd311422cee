package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;

/**
 * Sets a {@code size × size} square to 0 in every channel; its top row is drawn uniformly from
 * {@code [0, height − size]}, then its left column from {@code [0, width − size]}, so the square
 * always lies inside the image.
 */
record CutoutTransform(double probability, int size) implements Transform {
  @Override
  public int keyIndex() {
    return 8;
  }

  @Override
  public void apply(Image image, SplitMix64 random) {
    int top = (int) random.nextBounded(image.height - size + 1L);
    int left = (int) random.nextBounded(image.width - size + 1L);
    erase(image, top, left, size);
  }

  static void erase(Image image, int top, int left, int size) {
    for (int c = 0; c < image.channels; c++) {
      for (int y = top; y < top + size; y++) {
        int row = image.at(c, y, left);
        java.util.Arrays.fill(image.values, row, row + size, 0.0);
      }
    }
  }

  @Override
  public String canonical() {
    return "cutout(" + probability + "," + size + ")";
  }
}
