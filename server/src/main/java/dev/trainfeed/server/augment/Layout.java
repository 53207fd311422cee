package dev.trainfeed.server.augment;

import dev.trainfeed.server.store.FieldSpec;
import java.util.Arrays;
import java.util.Locale;

/**
 * How an image field's sample is laid out in C order: height, width and channels ({@code HWC}),
 * channels first ({@code CHW}), or a single channel ({@code HW}).
 */
public enum Layout {
  /** Rank 3, channels last, as the image-folder ingest writes. */
  HWC,
  /** Rank 3, channels first, as PyTorch models expect. */
  CHW,
  /** Rank 2, one channel. */
  HW;

  /** Channel counts that mark a channel axis when the layout is inferred. */
  private static final long[] CHANNEL_COUNTS = {1, 3, 4};

  /**
   * The layout named by {@code name} ({@code "HWC"}, {@code "CHW"} or {@code "HW"}, any case), or
   * the one inferred from the shape when {@code name} is empty: rank 2 is HW; rank 3 whose last
   * dimension is 1, 3 or 4 is HWC; rank 3 whose first dimension is 1, 3 or 4 is CHW.
   *
   * @throws IllegalArgumentException naming {@code augment.layout} when the name is unknown, does
   *     not fit the field's rank, or cannot be inferred
   */
  static Layout resolve(String name, FieldSpec field) {
    long[] shape = field.shape();
    if (!name.isEmpty()) {
      Layout l;
      try {
        l = valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("augment.layout '" + name + "' is unknown; use HWC, "
            + "CHW or HW");
      }
      if (l.rank() != shape.length) {
        throw new IllegalArgumentException("augment.layout " + l + " needs a rank-" + l.rank()
            + " field, but '" + field.name() + "' has shape " + Arrays.toString(shape));
      }
      return l;
    }
    if (shape.length == 2) {
      return HW;
    }
    if (shape.length == 3 && isChannelCount(shape[2])) {
      return HWC;
    }
    if (shape.length == 3 && isChannelCount(shape[0])) {
      return CHW;
    }
    throw new IllegalArgumentException("augment.layout cannot be inferred for field '"
        + field.name() + "' with shape " + Arrays.toString(shape) + " (no axis of 1, 3 or 4 "
        + "channels at either end); set augment.layout to HWC, CHW or HW");
  }

  /** The rank of a sample in this layout. */
  int rank() {
    return this == HW ? 2 : 3;
  }

  /** {height, width, channels} of a sample with this layout and {@code shape}. */
  int[] geometry(long[] shape) {
    return switch (this) {
      case HWC -> new int[] {(int) shape[0], (int) shape[1], (int) shape[2]};
      case CHW -> new int[] {(int) shape[1], (int) shape[2], (int) shape[0]};
      case HW -> new int[] {(int) shape[0], (int) shape[1], 1};
    };
  }

  private static boolean isChannelCount(long d) {
    for (long c : CHANNEL_COUNTS) {
      if (c == d) {
        return true;
      }
    }
    return false;
  }
}
