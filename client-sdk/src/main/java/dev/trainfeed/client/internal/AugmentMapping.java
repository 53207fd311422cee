package dev.trainfeed.client.internal;

import dev.trainfeed.client.Augmentation;
import dev.trainfeed.proto.v1.AugmentSpec;
import dev.trainfeed.proto.v1.AutoencoderAugment;
import dev.trainfeed.proto.v1.BrightnessContrast;
import dev.trainfeed.proto.v1.Crop;
import dev.trainfeed.proto.v1.Cutout;
import dev.trainfeed.proto.v1.GaussianNoise;
import dev.trainfeed.proto.v1.HorizontalFlip;
import dev.trainfeed.proto.v1.Normalize;
import dev.trainfeed.proto.v1.Rotation;

/** Converts the SDK's {@link Augmentation} to the wire's {@code AugmentSpec}. */
public final class AugmentMapping {
  private AugmentMapping() {}

  /** The wire form of {@code a}. */
  public static AugmentSpec toProto(Augmentation a) {
    AugmentSpec.Builder b = AugmentSpec.newBuilder().setField(a.field()).setLayout(a.layout());
    a.horizontalFlip().ifPresent(f -> b.setHorizontalFlip(HorizontalFlip.newBuilder()
        .setProbability(f.probability())));
    a.rotation().ifPresent(r -> b.setRotation(Rotation.newBuilder()
        .setProbability(r.probability()).setMaxDegrees(r.maxDegrees())));
    a.crop().ifPresent(c -> b.setCrop(Crop.newBuilder().setProbability(c.probability())
        .setPadding(c.padding())));
    a.noise().ifPresent(n -> b.setNoise(GaussianNoise.newBuilder()
        .setProbability(n.probability()).setStddev(n.stddev())));
    a.brightnessContrast().ifPresent(bc -> b.setBrightnessContrast(BrightnessContrast
        .newBuilder().setProbability(bc.probability()).setBrightness(bc.brightness())
        .setContrast(bc.contrast())));
    a.cutout().ifPresent(c -> b.setCutout(Cutout.newBuilder().setProbability(c.probability())
        .setSize(c.size())));
    a.normalize().ifPresent(n -> {
      Normalize.Builder nb = Normalize.newBuilder().setEnabled(true).setScale(n.scale());
      for (double m : n.mean()) {
        nb.addMean(m);
      }
      for (double s : n.std()) {
        nb.addStd(s);
      }
      b.setNormalize(nb);
    });
    a.autoencoder().ifPresent(e -> b.setAutoencoder(AutoencoderAugment.newBuilder()
        .setModel(e.model()).setMode(e.mode()).setProbability(e.probability())
        .setStrength(e.strength())));
    return b.build();
  }
}
