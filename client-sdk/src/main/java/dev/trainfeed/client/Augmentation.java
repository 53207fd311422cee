package dev.trainfeed.client;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Server-side, per-sample augmentation of one image field, for {@link
 * BatchStreamBuilder#augment(Augmentation)}. Every random choice depends only on (seed, epoch,
 * sample id), so augmented streams resume exactly; the output shape equals the input shape.
 * Made by {@link #builder()}; immutable.
 *
 * <pre>{@code
 * Augmentation aug = Augmentation.builder()
 *     .horizontalFlip(0.5).rotation(0.3, 15).crop(1.0, 4)
 *     .normalize(new double[] {0.485, 0.456, 0.406}, new double[] {0.229, 0.224, 0.225})
 *     .build();
 * }</pre>
 */
public final class Augmentation {
  /** Mirror left to right with this probability. */
  public record Flip(double probability) {
    /** Validates eagerly. */
    public Flip {
      checkProbability("horizontalFlip", probability);
    }
  }

  /** Rotate by an angle uniform in [-maxDegrees, maxDegrees], size kept, corners filled with 0. */
  public record Rotation(double probability, double maxDegrees) {
    /** Validates eagerly. */
    public Rotation {
      checkProbability("rotation", probability);
      if (!(maxDegrees >= 0 && maxDegrees <= 180)) {
        throw new IllegalArgumentException("rotation maxDegrees must be in [0, 180], was "
            + maxDegrees);
      }
    }
  }

  /** Pad with {@code padding} zero pixels on each side, then crop back to size at random. */
  public record Crop(double probability, int padding) {
    /** Validates eagerly. */
    public Crop {
      checkProbability("crop", probability);
      if (padding < 0) {
        throw new IllegalArgumentException("crop padding must be >= 0 pixels, was " + padding);
      }
    }
  }

  /** Add Gaussian noise; {@code stddev} is a fraction of the value range (255 for uint8). */
  public record Noise(double probability, double stddev) {
    /** Validates eagerly. */
    public Noise {
      checkProbability("noise", probability);
      fraction("noise stddev", stddev);
    }
  }

  /**
   * Scale contrast around the sample mean by a factor in [1 − contrast, 1 + contrast], then add a
   * brightness offset in [−brightness, brightness] (a fraction of the value range).
   */
  public record BrightnessContrast(double probability, double brightness, double contrast) {
    /** Validates eagerly. */
    public BrightnessContrast {
      checkProbability("brightnessContrast", probability);
      fraction("brightness", brightness);
      fraction("contrast", contrast);
    }
  }

  /** Set a {@code size × size} square to 0. */
  public record Cutout(double probability, int size) {
    /** Validates eagerly. */
    public Cutout {
      checkProbability("cutout", probability);
      if (size < 1) {
        throw new IllegalArgumentException("cutout size must be >= 1 pixel, was " + size);
      }
    }
  }

  /**
   * Send the field as FLOAT32: {@code (value / scale − mean[c]) / std[c]}. {@code mean} and
   * {@code std} have 1 entry or one per channel (empty: 0 and 1); {@code scale} 0 means 255 for
   * uint8 fields and 1 otherwise.
   */
  public record Normalize(double[] mean, double[] std, double scale) {
    /** Validates eagerly and copies the arrays. */
    public Normalize {
      mean = mean.clone();
      std = std.clone();
      for (double s : std) {
        if (s == 0 || !Double.isFinite(s)) {
          throw new IllegalArgumentException("normalize std must be finite and non-zero, was "
              + Arrays.toString(std));
        }
      }
      if (!(scale >= 0) || Double.isInfinite(scale)) {
        throw new IllegalArgumentException("normalize scale must be finite and >= 0, was "
            + scale);
      }
    }

    /** Per-channel means (a copy). */
    @Override
    public double[] mean() {
      return mean.clone();
    }

    /** Per-channel standard deviations (a copy). */
    @Override
    public double[] std() {
      return std.clone();
    }
  }

  /**
   * Augment through a server-side autoencoder: {@code mode} "perturb" (latent noise of standard
   * deviation {@code strength}) or "interpolate" (mixing weight up to {@code strength}).
   */
  public record Autoencoder(String model, String mode, double probability, double strength) {
    /** Validates eagerly. */
    public Autoencoder {
      if (model == null || model.isEmpty()) {
        throw new IllegalArgumentException("autoencoder model must be a model name from the "
            + "server's ListModels");
      }
      mode = Objects.requireNonNull(mode, "mode").toLowerCase(Locale.ROOT);
      if (!mode.equals("perturb") && !mode.equals("interpolate")) {
        throw new IllegalArgumentException("autoencoder mode must be perturb or interpolate, was "
            + mode);
      }
      checkProbability("autoencoder", probability);
      if (!(strength >= 0) || Double.isInfinite(strength)) {
        throw new IllegalArgumentException("autoencoder strength must be finite and >= 0, was "
            + strength);
      }
    }
  }

  private final String field;
  private final String layout;
  private final Flip flip;
  private final Rotation rotation;
  private final Crop crop;
  private final Noise noise;
  private final BrightnessContrast brightnessContrast;
  private final Cutout cutout;
  private final Normalize normalize;
  private final Autoencoder autoencoder;

  private Augmentation(Builder b) {
    field = b.field;
    layout = b.layout;
    flip = b.flip;
    rotation = b.rotation;
    crop = b.crop;
    noise = b.noise;
    brightnessContrast = b.brightnessContrast;
    cutout = b.cutout;
    normalize = b.normalize;
    autoencoder = b.autoencoder;
  }

  /** A builder with nothing set: no transform, field and layout chosen by the server. */
  public static Builder builder() {
    return new Builder();
  }

  /** The field to augment; empty means the dataset's only image-like field. */
  public String field() {
    return field;
  }

  /** "HWC", "CHW" or "HW"; empty means inferred from the field's shape. */
  public String layout() {
    return layout;
  }

  /** The horizontal flip, if set. */
  public Optional<Flip> horizontalFlip() {
    return Optional.ofNullable(flip);
  }

  /** The rotation, if set. */
  public Optional<Rotation> rotation() {
    return Optional.ofNullable(rotation);
  }

  /** The pad-and-crop, if set. */
  public Optional<Crop> crop() {
    return Optional.ofNullable(crop);
  }

  /** The Gaussian noise, if set. */
  public Optional<Noise> noise() {
    return Optional.ofNullable(noise);
  }

  /** The brightness/contrast jitter, if set. */
  public Optional<BrightnessContrast> brightnessContrast() {
    return Optional.ofNullable(brightnessContrast);
  }

  /** The cutout, if set. */
  public Optional<Cutout> cutout() {
    return Optional.ofNullable(cutout);
  }

  /** The normalization, if set. */
  public Optional<Normalize> normalize() {
    return Optional.ofNullable(normalize);
  }

  /** The autoencoder augmentation, if set. */
  public Optional<Autoencoder> autoencoder() {
    return Optional.ofNullable(autoencoder);
  }

  private static void checkProbability(String what, double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException(what + " probability must be in [0, 1], was " + p);
    }
  }

  private static void fraction(String what, double v) {
    if (!(v >= 0 && v <= 1)) {
      throw new IllegalArgumentException(what + " must be in [0, 1] (a fraction of the value "
          + "range), was " + v);
    }
  }

  /** Collects an {@link Augmentation}; each setter validates at once. */
  public static final class Builder {
    private String field = "";
    private String layout = "";
    private Flip flip;
    private Rotation rotation;
    private Crop crop;
    private Noise noise;
    private BrightnessContrast brightnessContrast;
    private Cutout cutout;
    private Normalize normalize;
    private Autoencoder autoencoder;

    private Builder() {}

    /** Names the field to augment; default: the dataset's only image-like field. */
    public Builder field(String name) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("field name must be non-empty");
      }
      this.field = name;
      return this;
    }

    /** Sets the layout, "HWC", "CHW" or "HW"; default: inferred from the field's shape. */
    public Builder layout(String layout) {
      String l = Objects.requireNonNull(layout, "layout").toUpperCase(Locale.ROOT);
      if (!l.equals("HWC") && !l.equals("CHW") && !l.equals("HW")) {
        throw new IllegalArgumentException("layout must be HWC, CHW or HW, was " + layout);
      }
      this.layout = l;
      return this;
    }

    /** Flips left to right with {@code probability} in [0, 1]; default off. */
    public Builder horizontalFlip(double probability) {
      this.flip = new Flip(probability);
      return this;
    }

    /** Rotates by up to ±{@code maxDegrees} (0 to 180) with {@code probability}; default off. */
    public Builder rotation(double probability, double maxDegrees) {
      this.rotation = new Rotation(probability, maxDegrees);
      return this;
    }

    /** Pads by {@code padding} pixels and crops back with {@code probability}; default off. */
    public Builder crop(double probability, int padding) {
      this.crop = new Crop(probability, padding);
      return this;
    }

    /** Adds noise of {@code stddev} (fraction of the range, 0 to 1); default off. */
    public Builder noise(double probability, double stddev) {
      this.noise = new Noise(probability, stddev);
      return this;
    }

    /** Jitters brightness and contrast (fractions, 0 to 1); default off. */
    public Builder brightnessContrast(double probability, double brightness, double contrast) {
      this.brightnessContrast = new BrightnessContrast(probability, brightness, contrast);
      return this;
    }

    /** Zeroes a {@code size}-pixel square with {@code probability}; default off. */
    public Builder cutout(double probability, int size) {
      this.cutout = new Cutout(probability, size);
      return this;
    }

    /** Normalizes to FLOAT32 with the default scale (255 for uint8, 1 otherwise). */
    public Builder normalize(double[] mean, double[] std) {
      return normalize(mean, std, 0);
    }

    /** Normalizes to FLOAT32: {@code (value / scale − mean[c]) / std[c]}; default off. */
    public Builder normalize(double[] mean, double[] std, double scale) {
      this.normalize = new Normalize(mean, std, scale);
      return this;
    }

    /** Augments through the server's autoencoder {@code model}; default off. */
    public Builder autoencoder(String model, String mode, double probability, double strength) {
      this.autoencoder = new Autoencoder(model, mode, probability, strength);
      return this;
    }

    /** The augmentation; the server checks it against the dataset when the stream opens. */
    public Augmentation build() {
      return new Augmentation(this);
    }
  }
}
