package dev.trainfeed.server.augment;

import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.AutoencoderAugment;
import dev.trainfeed.proto.v1.Normalize;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.FieldSpec;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An {@code AugmentSpec} checked against a dataset's fields: which field, its layout and geometry,
 * the transforms in the order they run, the output dtype, and a digest that resume tokens record.
 * Immutable and shareable; {@link Augmenter} applies it.
 *
 * <p>Order of application (fixed, whatever the spec's order): autoencoder, horizontal flip,
 * rotation, crop, brightness/contrast, noise, cutout, normalization. See
 * {@code docs/3-augmentation.md}.
 */
public final class AugmentPlan {
  private final FieldSpec field;
  private final Layout layout;
  private final int height;
  private final int width;
  private final int channels;
  private final List<Transform> transforms;
  private final Normalization normalization;
  private final AutoencoderStep autoencoder;
  private final String digest;

  /** The autoencoder stage of a plan. */
  record AutoencoderStep(String model, AutoencoderAugmenter augmenter,
      AutoencoderAugmenter.Mode mode, double probability, double strength) {
    /** Key index of the autoencoder's draws: its field number in {@code AugmentSpec}. */
    static final int KEY_INDEX = 10;
  }

  private AugmentPlan(FieldSpec field, Layout layout, List<Transform> transforms,
      Normalization normalization, AutoencoderStep autoencoder) {
    this.field = field;
    this.layout = layout;
    int[] g = layout.geometry(field.shape());
    this.height = g[0];
    this.width = g[1];
    this.channels = g[2];
    this.transforms = List.copyOf(transforms);
    this.normalization = normalization;
    this.autoencoder = autoencoder;
    this.digest = sha256Hex(canonical());
  }

  /**
   * Compiles {@code spec} against a dataset's fields; empty when the spec is unset or all default
   * (no augmentation).
   *
   * @param datasetName for error messages
   * @param models the autoencoders this server runs
   * @throws IllegalArgumentException a spec that does not fit, with a message naming the
   *     offending {@code augment.…} field and what to change (gRPC INVALID_ARGUMENT)
   * @throws io.grpc.StatusRuntimeException NOT_FOUND for an autoencoder model this server lacks
   */
  public static Optional<AugmentPlan> compile(AugmentSpec spec, String datasetName,
      List<FieldSpec> fields, AutoencoderModels models) {
    if (spec.equals(AugmentSpec.getDefaultInstance())) {
      return Optional.empty();
    }
    FieldSpec field = selectField(spec.getField(), datasetName, fields);
    Layout layout = Layout.resolve(spec.getLayout(), field);
    int[] g = layout.geometry(field.shape());
    int h = g[0];
    int w = g[1];
    int c = g[2];

    Normalization norm = spec.hasNormalize() ? normalization(spec.getNormalize(), field, c) : null;
    // Noise and brightness are fractions of the value range: the normalize scale when one is
    // given, else 255 for uint8 and 1 for floating point.
    double range = norm != null && spec.getNormalize().getScale() != 0 ? norm.scale()
        : field.dtype() == DType.UINT8 ? 255 : 1;

    List<Transform> transforms = new ArrayList<>();
    if (spec.hasHorizontalFlip()) {
      transforms.add(new FlipTransform(
          probability("horizontal_flip", spec.getHorizontalFlip().getProbability())));
    }
    if (spec.hasRotation()) {
      double max = spec.getRotation().getMaxDegrees();
      if (!(max >= 0 && max <= 180)) {
        throw new IllegalArgumentException("augment.rotation.max_degrees must be in [0, 180], got "
            + max);
      }
      transforms.add(new RotateTransform(
          probability("rotation", spec.getRotation().getProbability()), max));
    }
    if (spec.hasCrop()) {
      int padding = spec.getCrop().getPadding();
      int limit = Math.max(h, w);
      if (padding < 0 || padding > limit) {
        throw new IllegalArgumentException("augment.crop.padding must be in [0, " + limit
            + "] (the larger side of '" + field.name() + "'), got "
            + Integer.toUnsignedString(padding));
      }
      transforms.add(new CropTransform(probability("crop", spec.getCrop().getProbability()),
          padding));
    }
    if (spec.hasBrightnessContrast()) {
      var bc = spec.getBrightnessContrast();
      fraction("brightness_contrast.brightness", bc.getBrightness());
      fraction("brightness_contrast.contrast", bc.getContrast());
      transforms.add(new BrightnessContrastTransform(
          probability("brightness_contrast", bc.getProbability()), bc.getBrightness(),
          bc.getContrast(), range));
    }
    if (spec.hasNoise()) {
      fraction("noise.stddev", spec.getNoise().getStddev());
      transforms.add(new NoiseTransform(probability("noise", spec.getNoise().getProbability()),
          spec.getNoise().getStddev(), range));
    }
    if (spec.hasCutout()) {
      double p = probability("cutout", spec.getCutout().getProbability());
      int size = spec.getCutout().getSize();
      if (size < 0 || size > Math.min(h, w)) {
        throw new IllegalArgumentException("augment.cutout.size " + Integer.toUnsignedString(size)
            + " is larger than the image (" + h + "x" + w + " in field '" + field.name()
            + "'); use at most " + Math.min(h, w));
      }
      if (size == 0 && p > 0) {
        throw new IllegalArgumentException("augment.cutout.size must be at least 1 when "
            + "augment.cutout.probability is above 0");
      }
      transforms.add(new CutoutTransform(p, size));
    }
    AutoencoderStep ae = null;
    if (spec.hasAutoencoder()
        && !spec.getAutoencoder().equals(AutoencoderAugment.getDefaultInstance())) {
      ae = autoencoder(spec.getAutoencoder(), field, models);
    }
    return Optional.of(new AugmentPlan(field, layout, transforms, norm, ae));
  }

  private static FieldSpec selectField(String name, String datasetName, List<FieldSpec> fields) {
    if (!name.isEmpty()) {
      for (FieldSpec f : fields) {
        if (f.name().equals(name)) {
          if (!imageLike(f)) {
            throw new IllegalArgumentException("augment.field '" + name + "' is " + f.dtype()
                .manifestName() + " " + Arrays.toString(f.shape()) + "; augmentation needs a "
                + "uint8 or floating-point field of rank 2 (HW) or 3 (HWC or CHW)");
          }
          return f;
        }
      }
      throw new IllegalArgumentException("augment.field '" + name + "' is not a field of dataset "
          + datasetName + "; its fields are " + names(fields));
    }
    List<FieldSpec> candidates = fields.stream().filter(AugmentPlan::imageLike).toList();
    if (candidates.size() == 1) {
      return candidates.get(0);
    }
    if (candidates.isEmpty()) {
      throw new IllegalArgumentException("augment.field is empty and dataset " + datasetName
          + " has no image-like field (uint8 or floating point, rank 2 or 3); its fields are "
          + names(fields));
    }
    throw new IllegalArgumentException("augment.field is empty but dataset " + datasetName
        + " has several image-like fields (" + names(candidates) + "); set augment.field to one");
  }

  private static boolean imageLike(FieldSpec f) {
    int rank = f.shape().length;
    return (rank == 2 || rank == 3) && SampleCodec.readable(f.dtype());
  }

  private static String names(List<FieldSpec> fields) {
    return String.join(", ", fields.stream().map(FieldSpec::name).toList());
  }

  private static double probability(String transform, double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("augment." + transform + ".probability must be in [0,1],"
          + " got " + p);
    }
    return p;
  }

  private static void fraction(String what, double v) {
    if (!(v >= 0 && v <= 1)) {
      throw new IllegalArgumentException("augment." + what + " must be in [0,1] (a fraction of "
          + "the value range), got " + v);
    }
  }

  private static Normalization normalization(Normalize n, FieldSpec field, int channels) {
    if (!n.getEnabled()) {
      if (!n.equals(Normalize.getDefaultInstance())) {
        throw new IllegalArgumentException("augment.normalize sets mean, std or scale but "
            + "augment.normalize.enabled is false; set enabled to true or clear normalize");
      }
      return null;
    }
    double scale = n.getScale();
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("augment.normalize.scale must be a finite number >= 0 "
          + "(0 means 255 for uint8, 1 otherwise), got " + scale);
    }
    if (scale == 0) {
      scale = field.dtype() == DType.UINT8 ? 255 : 1;
    }
    double[] mean = perChannel("mean", n.getMeanList(), channels, 0);
    double[] std = perChannel("std", n.getStdList(), channels, 1);
    for (int c = 0; c < channels; c++) {
      if (!Double.isFinite(mean[c])) {
        throw new IllegalArgumentException("augment.normalize.mean must be finite, got "
            + mean[c]);
      }
      if (std[c] == 0 || !Double.isFinite(std[c])) {
        throw new IllegalArgumentException("augment.normalize.std must be finite and non-zero, "
            + "got " + std[c]);
      }
    }
    return new Normalization(scale, mean, std);
  }

  private static double[] perChannel(String what, List<Double> values, int channels,
      double empty) {
    double[] out = new double[channels];
    if (values.isEmpty()) {
      Arrays.fill(out, empty);
    } else if (values.size() == 1) {
      Arrays.fill(out, values.get(0));
    } else if (values.size() == channels) {
      for (int c = 0; c < channels; c++) {
        out[c] = values.get(c);
      }
    } else {
      throw new IllegalArgumentException("augment.normalize." + what + " has " + values.size()
          + " entries; give 1 or one per channel (" + channels + ")");
    }
    return out;
  }

  private static AutoencoderStep autoencoder(AutoencoderAugment a, FieldSpec field,
      AutoencoderModels models) {
    if (a.getModel().isEmpty()) {
      throw new IllegalArgumentException("augment.autoencoder.model is empty; name an "
          + "autoencoder from ListModels");
    }
    AutoencoderAugmenter.Mode mode;
    try {
      mode = AutoencoderAugmenter.Mode.valueOf(a.getMode().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("augment.autoencoder.mode '" + a.getMode() + "' is "
          + "unknown; use perturb or interpolate");
    }
    double p = probability("autoencoder", a.getProbability());
    if (!(a.getStrength() >= 0) || Double.isInfinite(a.getStrength())) {
      throw new IllegalArgumentException("augment.autoencoder.strength must be a finite number "
          + ">= 0, got " + a.getStrength());
    }
    AutoencoderAugmenter model = models.find(a.getModel()).orElseThrow(() ->
        Status.NOT_FOUND.withDescription("augment.autoencoder.model '" + a.getModel()
            + "' not found; ListModels shows the models this server runs").asRuntimeException());
    model.checkField(field);
    return new AutoencoderStep(a.getModel(), model, mode, p, a.getStrength());
  }

  /** The field this plan augments. */
  public FieldSpec field() {
    return field;
  }

  /** The field's layout, as given or inferred. */
  public Layout layout() {
    return layout;
  }

  /** The dtype sent for the field: FLOAT32 when normalizing, else the field's own. */
  public DType outputDType() {
    return normalization != null ? DType.FLOAT32 : field.dtype();
  }

  /** Bytes of one augmented sample of the field. */
  public long outputSampleBytes() {
    return field.elementsPerSample() * outputDType().byteSize();
  }

  /**
   * Hex SHA-256 of the plan's canonical text (resolved field and layout, every setting, the
   * autoencoder's version): equal plans, however their specs were written, have equal digests.
   */
  public String digest() {
    return digest;
  }

  int height() {
    return height;
  }

  int width() {
    return width;
  }

  int channels() {
    return channels;
  }

  List<Transform> transforms() {
    return transforms;
  }

  Normalization normalization() {
    return normalization;
  }

  AutoencoderStep autoencoder() {
    return autoencoder;
  }

  private String canonical() {
    StringBuilder s = new StringBuilder("trainfeed.augment.v1|field=").append(field.name())
        .append("|layout=").append(layout);
    if (autoencoder != null) {
      s.append("|autoencoder(").append(autoencoder.model()).append(',')
          .append(autoencoder.augmenter().version()).append(',').append(autoencoder.mode())
          .append(',').append(autoencoder.probability()).append(',')
          .append(autoencoder.strength()).append(')');
    }
    for (Transform t : transforms) {
      s.append('|').append(t.canonical());
    }
    if (normalization != null) {
      s.append('|').append(normalization.canonical());
    }
    return s.toString();
  }

  private static String sha256Hex(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
