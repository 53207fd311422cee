package dev.trainfeed.server.augment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.AutoencoderAugment;
import dev.trainfeed.proto.v1.BrightnessContrast;
import dev.trainfeed.proto.v1.Crop;
import dev.trainfeed.proto.v1.Cutout;
import dev.trainfeed.proto.v1.GaussianNoise;
import dev.trainfeed.proto.v1.HorizontalFlip;
import dev.trainfeed.proto.v1.Normalize;
import dev.trainfeed.proto.v1.Rotation;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.FieldSpec;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Plans compiled from specs, applied to batches of samples: determinism, dtype and layout rules. */
class AugmenterTest {
  private static final FieldSpec IMG = new FieldSpec("image", DType.UINT8, 4, 6, 3);
  private static final FieldSpec LABEL = new FieldSpec("label", DType.INT64);
  private static final List<FieldSpec> FIELDS = List.of(IMG, LABEL);

  private static AugmentPlan plan(AugmentSpec spec, List<FieldSpec> fields) {
    return AugmentPlan.compile(spec, "ds", fields, AutoencoderModels.NONE).orElseThrow();
  }

  private static Augmenter augmenter(AugmentSpec spec) {
    return new Augmenter(plan(spec, FIELDS), 7, 0);
  }

  /** {@code n} uint8 samples of {@code field}, sample i element k = (31·i + 5·k) mod 256. */
  private static byte[] samples(FieldSpec field, int n) {
    int size = (int) field.elementsPerSample();
    byte[] b = new byte[n * size];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < size; k++) {
        b[i * size + k] = (byte) (31 * i + 5 * k);
      }
    }
    return b;
  }

  private static byte[] apply(Augmenter a, FieldSpec f, long[] ids, byte[] data) throws Exception {
    return a.apply(f, ids, data.clone()).data();
  }

  private static AugmentSpec everything(double p) {
    return AugmentSpec.newBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(p))
        .setRotation(Rotation.newBuilder().setProbability(p).setMaxDegrees(30))
        .setCrop(Crop.newBuilder().setProbability(p).setPadding(2))
        .setNoise(GaussianNoise.newBuilder().setProbability(p).setStddev(0.05))
        .setBrightnessContrast(BrightnessContrast.newBuilder().setProbability(p)
            .setBrightness(0.2).setContrast(0.3))
        .setCutout(Cutout.newBuilder().setProbability(p).setSize(2))
        .build();
  }

  @Test
  void sameSeedEpochAndIdGiveTheSameBytesWhateverTheBatch() throws Exception {
    Augmenter a = augmenter(everything(0.5));
    byte[] batch = samples(IMG, 6);
    long[] ids = {10, 11, 12, 13, 14, 15};
    byte[] once = apply(a, IMG, ids, batch);
    assertThat(apply(augmenter(everything(0.5)), IMG, ids, batch)).isEqualTo(once);
    // Sample 13 alone, in a batch of one, comes out the same.
    int size = (int) IMG.sampleBytes();
    byte[] alone = apply(a, IMG, new long[] {13}, Arrays.copyOfRange(batch, 3 * size, 4 * size));
    assertThat(alone).isEqualTo(Arrays.copyOfRange(once, 3 * size, 4 * size));
    // Other ids, epochs or seeds make other choices.
    long[] shifted = {20, 21, 22, 23, 24, 25};
    assertThat(apply(a, IMG, shifted, batch)).isNotEqualTo(once);
    assertThat(apply(new Augmenter(plan(everything(0.5), FIELDS), 7, 1), IMG, ids, batch))
        .isNotEqualTo(once);
    assertThat(apply(new Augmenter(plan(everything(0.5), FIELDS), 8, 0), IMG, ids, batch))
        .isNotEqualTo(once);
  }

  @Test
  void differentIdsDrawDifferentChoices() {
    Augmenter a = augmenter(everything(0.5));
    java.util.Set<Long> draws = new java.util.HashSet<>();
    for (long id = 0; id < 1000; id++) {
      draws.add(a.random(id, 4).nextLong());
    }
    assertThat(draws).hasSize(1000);
    assertThat(a.random(5, 3).nextLong()).isNotEqualTo(a.random(5, 4).nextLong());
  }

  @Test
  void probabilityZeroIsIdentityAndOneAlwaysApplies() throws Exception {
    byte[] batch = samples(IMG, 20);
    long[] ids = new long[20];
    Arrays.setAll(ids, i -> i);
    assertThat(apply(augmenter(everything(0)), IMG, ids, batch)).isEqualTo(batch);
    byte[] flipped = apply(augmenter(AugmentSpec.newBuilder()
        .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(1)).build()), IMG, ids,
        batch);
    for (int i = 0; i < 20; i++) {
      for (int y = 0; y < 4; y++) {
        for (int x = 0; x < 6; x++) {
          for (int c = 0; c < 3; c++) {
            assertThat(flipped[i * 72 + (y * 6 + x) * 3 + c])
                .isEqualTo(batch[i * 72 + (y * 6 + (5 - x)) * 3 + c]);
          }
        }
      }
    }
  }

  @Test
  void halfTheSamplesFlipAtProbabilityOneHalf() throws Exception {
    int n = 2000;
    FieldSpec f = new FieldSpec("image", DType.UINT8, 1, 2);
    byte[] batch = new byte[2 * n];
    for (int i = 0; i < n; i++) {
      batch[2 * i + 1] = 1;
    }
    long[] ids = new long[n];
    Arrays.setAll(ids, i -> i);
    byte[] out = new Augmenter(plan(AugmentSpec.newBuilder().setHorizontalFlip(
        HorizontalFlip.newBuilder().setProbability(0.5)).build(), List.of(f)), 1, 0)
        .apply(f, ids, batch).data();
    int flips = 0;
    for (int i = 0; i < n; i++) {
      flips += out[2 * i];
    }
    assertThat(flips).isBetween(900, 1100);
  }

  @Test
  void uint8StaysUint8RoundedAndClamped() throws Exception {
    FieldSpec f = new FieldSpec("image", DType.UINT8, 2, 2);
    AugmentSpec bright = AugmentSpec.newBuilder().setBrightnessContrast(BrightnessContrast
        .newBuilder().setProbability(1).setBrightness(1)).build();
    Augmenter a = new Augmenter(plan(bright, List.of(f)), 3, 0);
    for (long id = 0; id < 50; id++) {
      byte[] in = {0, 100, (byte) 200, (byte) 255};
      Augmenter.AugmentedField out = a.apply(f, new long[] {id}, in.clone());
      assertThat(out.dtype()).isEqualTo(DType.UINT8);
      assertThat(out.data()).hasSize(4);
      // A pure offset, rounded and clamped: differences survive unless clamped.
      int d0 = out.data()[0] & 0xff;
      int d3 = out.data()[3] & 0xff;
      assertThat(d3 - d0).isBetween(0, 255);
      if (d0 > 0 && d3 < 255) {
        assertThat((out.data()[1] & 0xff) - d0).isEqualTo(100);
      }
    }
  }

  @Test
  void floatsStayFloatsWithoutClamping() throws Exception {
    FieldSpec f = new FieldSpec("image", DType.FLOAT32, 1, 3);
    AugmentSpec contrast = AugmentSpec.newBuilder().setBrightnessContrast(BrightnessContrast
        .newBuilder().setProbability(1).setContrast(1)).build();
    ByteBuffer in = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(-5).putFloat(0).putFloat(5);
    Augmenter.AugmentedField out = new Augmenter(plan(contrast, List.of(f)), 1, 0)
        .apply(f, new long[] {3}, in.array());
    assertThat(out.dtype()).isEqualTo(DType.FLOAT32);
    ByteBuffer o = ByteBuffer.wrap(out.data()).order(ByteOrder.LITTLE_ENDIAN);
    float a = o.getFloat();
    assertThat(o.getFloat()).isEqualTo(0f);
    assertThat(o.getFloat()).isEqualTo(-a);
    assertThat(Math.abs(a)).isLessThanOrEqualTo(10f);
  }

  @Test
  void normalizeMakesFloat32WithExactValues() throws Exception {
    AugmentSpec spec = AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder()
        .setEnabled(true).addAllMean(List.of(0.1, 0.2, 0.3)).addStd(0.5)).build();
    AugmentPlan p = plan(spec, FIELDS);
    assertThat(p.outputDType()).isEqualTo(DType.FLOAT32);
    assertThat(p.outputSampleBytes()).isEqualTo(4 * 72);
    byte[] batch = samples(IMG, 2);
    Augmenter.AugmentedField out = new Augmenter(p, 0, 0).apply(IMG, new long[] {0, 1}, batch);
    assertThat(out.data()).hasSize(2 * 72 * 4);
    ByteBuffer o = ByteBuffer.wrap(out.data()).order(ByteOrder.LITTLE_ENDIAN);
    double[] mean = {0.1, 0.2, 0.3};
    for (int e = 0; e < 144; e++) {
      assertThat(o.getFloat()).isEqualTo((float) (((batch[e] & 0xff) / 255.0 - mean[e % 3]) / 0.5));
    }
    // Other fields pass as they are.
    byte[] labels = new byte[16];
    assertThat(new Augmenter(p, 0, 0).apply(LABEL, new long[] {0, 1}, labels).data())
        .isSameAs(labels);
  }

  @Test
  void normalizeScaleSetsTheValueRangeOfNoiseAndBrightness() {
    FieldSpec f = new FieldSpec("image", DType.FLOAT32, 8, 8);
    AugmentSpec spec = AugmentSpec.newBuilder()
        .setBrightnessContrast(BrightnessContrast.newBuilder().setProbability(1)
            .setBrightness(0.5))
        .setNormalize(Normalize.newBuilder().setEnabled(true).setScale(255)).build();
    AugmentPlan p = plan(spec, List.of(f));
    assertThat(((BrightnessContrastTransform) p.transforms().get(0)).range()).isEqualTo(255);
    AugmentPlan unscaled = plan(spec.toBuilder().clearNormalize().build(), List.of(f));
    assertThat(((BrightnessContrastTransform) unscaled.transforms().get(0)).range()).isEqualTo(1);
  }

  @Test
  void chwAndHwcLayoutsGiveTheSameImage() throws Exception {
    FieldSpec hwc = new FieldSpec("image", DType.UINT8, 4, 6, 3);
    FieldSpec chw = new FieldSpec("image", DType.UINT8, 3, 4, 6);
    byte[] a = samples(hwc, 1);
    byte[] b = new byte[72];
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 6; x++) {
        for (int c = 0; c < 3; c++) {
          b[(c * 4 + y) * 6 + x] = a[(y * 6 + x) * 3 + c];
        }
      }
    }
    AugmentSpec spec = everything(1);
    byte[] outA = new Augmenter(plan(spec, List.of(hwc)), 5, 2).apply(hwc, new long[] {9}, a)
        .data();
    byte[] outB = new Augmenter(plan(spec, List.of(chw)), 5, 2).apply(chw, new long[] {9}, b)
        .data();
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 6; x++) {
        for (int c = 0; c < 3; c++) {
          assertThat(outB[(c * 4 + y) * 6 + x]).isEqualTo(outA[(y * 6 + x) * 3 + c]);
        }
      }
    }
  }

  @Test
  void float16AndFloat64AreAugmentedInTheirOwnType() throws Exception {
    for (DType t : new DType[] {DType.FLOAT16, DType.BFLOAT16, DType.FLOAT64}) {
      FieldSpec f = new FieldSpec("image", t, 2, 3);
      byte[] in = new byte[(int) f.sampleBytes()];
      ByteBuffer w = ByteBuffer.wrap(in).order(ByteOrder.LITTLE_ENDIAN);
      for (int k = 0; k < 6; k++) {
        switch (t) {
          case FLOAT16 -> w.putShort(HalfFloats.floatToHalf(k));
          case BFLOAT16 -> w.putShort(HalfFloats.floatToBfloat16(k));
          default -> w.putDouble(k);
        }
      }
      Augmenter.AugmentedField out = new Augmenter(plan(AugmentSpec.newBuilder()
          .setHorizontalFlip(HorizontalFlip.newBuilder().setProbability(1)).build(), List.of(f)),
          0, 0).apply(f, new long[] {0}, in.clone());
      assertThat(out.dtype()).isEqualTo(t);
      ByteBuffer r = ByteBuffer.wrap(out.data()).order(ByteOrder.LITTLE_ENDIAN);
      double first = switch (t) {
        case FLOAT16 -> HalfFloats.halfToFloat(r.getShort(0));
        case BFLOAT16 -> HalfFloats.bfloat16ToFloat(r.getShort(0));
        default -> r.getDouble(0);
      };
      assertThat(first).as("%s", t).isEqualTo(2.0);
    }
  }

  @Test
  void fieldAndLayoutAreInferred() {
    assertThat(plan(everything(1), FIELDS).field()).isEqualTo(IMG);
    assertThat(plan(everything(1), FIELDS).layout()).isEqualTo(Layout.HWC);
    assertThat(plan(everything(1), List.of(new FieldSpec("x", DType.FLOAT32, 3, 8, 8))).layout())
        .isEqualTo(Layout.CHW);
    assertThat(plan(everything(1), List.of(new FieldSpec("x", DType.UINT8, 8, 8))).layout())
        .isEqualTo(Layout.HW);
    assertThat(AugmentPlan.compile(AugmentSpec.getDefaultInstance(), "ds", FIELDS,
        AutoencoderModels.NONE)).isEmpty();
  }

  @Test
  void digestCoversEverySettingButNotHowTheFieldWasNamed() {
    String d = plan(everything(0.5), FIELDS).digest();
    assertThat(d).hasSize(64);
    assertThat(plan(everything(0.5).toBuilder().setField("image").setLayout("HWC").build(),
        FIELDS).digest()).isEqualTo(d);
    assertThat(plan(everything(0.4), FIELDS).digest()).isNotEqualTo(d);
    assertThat(plan(everything(0.5).toBuilder().setCutout(Cutout.newBuilder().setProbability(0.5)
        .setSize(3)).build(), FIELDS).digest()).isNotEqualTo(d);
    assertThat(Augmenter.NONE.digest()).isEmpty();
  }

  @Test
  void badSpecsNameTheField() {
    List<FieldSpec> two = List.of(IMG, new FieldSpec("mask", DType.UINT8, 4, 6));
    invalid(everything(1.5), FIELDS, "augment.horizontal_flip.probability must be in [0,1]");
    invalid(AugmentSpec.newBuilder().setRotation(Rotation.newBuilder().setProbability(Double.NaN))
        .build(), FIELDS, "augment.rotation.probability must be in [0,1]");
    invalid(AugmentSpec.newBuilder().setRotation(Rotation.newBuilder().setMaxDegrees(-1)).build(),
        FIELDS, "augment.rotation.max_degrees");
    invalid(AugmentSpec.newBuilder().setCrop(Crop.newBuilder().setPadding(-1)).build(), FIELDS,
        "augment.crop.padding must be in [0, 6]");
    invalid(AugmentSpec.newBuilder().setCutout(Cutout.newBuilder().setProbability(1).setSize(5))
        .build(), FIELDS, "augment.cutout.size 5 is larger than the image (4x6");
    invalid(AugmentSpec.newBuilder().setCutout(Cutout.newBuilder().setProbability(1)).build(),
        FIELDS, "augment.cutout.size must be at least 1");
    invalid(AugmentSpec.newBuilder().setNoise(GaussianNoise.newBuilder().setStddev(2)).build(),
        FIELDS, "augment.noise.stddev must be in [0,1]");
    invalid(AugmentSpec.newBuilder().setBrightnessContrast(BrightnessContrast.newBuilder()
        .setContrast(-0.1)).build(), FIELDS, "augment.brightness_contrast.contrast");
    invalid(AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder().setEnabled(true)
        .addMean(0).addMean(0)).build(), FIELDS,
        "augment.normalize.mean has 2 entries; give 1 or one per channel (3)");
    invalid(AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder().setEnabled(true)
        .addStd(0)).build(), FIELDS, "augment.normalize.std must be finite and non-zero");
    invalid(AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder().addStd(2)).build(),
        FIELDS, "augment.normalize.enabled is false");
    invalid(AugmentSpec.newBuilder().setNormalize(Normalize.newBuilder().setEnabled(true)
        .setScale(-1)).build(), FIELDS, "augment.normalize.scale");
    invalid(everything(1).toBuilder().setLayout("NHWC").build(), FIELDS,
        "augment.layout 'NHWC' is unknown; use HWC, CHW or HW");
    invalid(everything(1).toBuilder().setLayout("HW").build(), FIELDS,
        "augment.layout HW needs a rank-2 field");
    invalid(everything(1), List.of(new FieldSpec("vol", DType.UINT8, 5, 6, 7)),
        "augment.layout cannot be inferred for field 'vol'");
    invalid(everything(1).toBuilder().setField("nope").build(), FIELDS,
        "augment.field 'nope' is not a field of dataset ds; its fields are image, label");
    invalid(everything(1).toBuilder().setField("label").build(), FIELDS,
        "augment.field 'label' is int64 []");
    invalid(everything(1), List.of(new FieldSpec("ids", DType.INT32, 4, 4), LABEL),
        "has no image-like field");
    invalid(everything(1), two, "has several image-like fields (image, mask); set augment.field");
    assertThat(plan(everything(1).toBuilder().setField("mask").build(), two).layout())
        .isEqualTo(Layout.HW);
    invalid(AugmentSpec.newBuilder().setAutoencoder(AutoencoderAugment.newBuilder()
        .setProbability(1)).build(), FIELDS, "augment.autoencoder.model is empty");
    invalid(AugmentSpec.newBuilder().setAutoencoder(AutoencoderAugment.newBuilder().setModel("ae")
        .setMode("blend")).build(), FIELDS, "augment.autoencoder.mode 'blend' is unknown");
  }

  @Test
  void unknownAutoencoderIsNotFound() {
    AugmentSpec spec = AugmentSpec.newBuilder().setAutoencoder(AutoencoderAugment.newBuilder()
        .setModel("x").setMode("perturb").setProbability(0.5).setStrength(0.1)).build();
    assertThatThrownBy(() -> AugmentPlan.compile(spec, "ds", FIELDS, AutoencoderModels.NONE))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("model 'x' not found");
        });
  }

  /** An autoencoder stand-in that inverts the selected samples and records what it was given. */
  private static final class Inverter implements AutoencoderAugmenter {
    final List<long[]> keys = new ArrayList<>();
    final String version;

    Inverter(String version) {
      this.version = version;
    }

    @Override
    public String version() {
      return version;
    }

    @Override
    public void checkField(FieldSpec field) {
      if (field.dtype() != DType.UINT8) {
        throw new IllegalArgumentException("augment.autoencoder.model 'inv' makes uint8");
      }
    }

    @Override
    public void augment(FieldSpec field, Mode mode, double strength, long[] k,
        boolean[] selected, byte[] samples) {
      keys.add(k.clone());
      int size = (int) field.sampleBytes();
      for (int i = 0; i < selected.length; i++) {
        for (int j = 0; selected[i] && j < size; j++) {
          samples[i * size + j] = (byte) ~samples[i * size + j];
        }
      }
    }
  }

  @Test
  void autoencoderPlugsInWithPerSampleKeysAndItsVersionInTheDigest() throws Exception {
    Inverter inv = new Inverter("v1");
    AugmentSpec spec = AugmentSpec.newBuilder().setAutoencoder(AutoencoderAugment.newBuilder()
        .setModel("inv").setMode("interpolate").setProbability(1).setStrength(0.3)).build();
    AugmentPlan p = AugmentPlan.compile(spec, "ds", FIELDS,
        name -> name.equals("inv") ? Optional.of(inv) : Optional.empty()).orElseThrow();
    byte[] batch = samples(IMG, 2);
    byte[] out = new Augmenter(p, 1, 0).apply(IMG, new long[] {4, 5}, batch.clone()).data();
    for (int i = 0; i < batch.length; i++) {
      assertThat(out[i]).isEqualTo((byte) ~batch[i]);
    }
    new Augmenter(p, 1, 0).apply(IMG, new long[] {5}, samples(IMG, 1));
    assertThat(inv.keys.get(1)[0]).isEqualTo(inv.keys.get(0)[1]);
    String other = AugmentPlan.compile(spec, "ds", FIELDS, name -> Optional.of(new Inverter("v2")))
        .orElseThrow().digest();
    assertThat(other).isNotEqualTo(p.digest());
    invalid(spec, List.of(new FieldSpec("image", DType.FLOAT32, 4, 4)), name -> Optional.of(inv),
        "makes uint8");
  }

  private static void invalid(AugmentSpec spec, List<FieldSpec> fields, String message) {
    invalid(spec, fields, AutoencoderModels.NONE, message);
  }

  private static void invalid(AugmentSpec spec, List<FieldSpec> fields, AutoencoderModels models,
      String message) {
    assertThatThrownBy(() -> AugmentPlan.compile(spec, "ds", fields, models))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
  }
}
