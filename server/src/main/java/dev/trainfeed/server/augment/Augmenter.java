package dev.trainfeed.server.augment;

import dev.trainfeed.server.order.SplitMix64;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

/**
 * Applies an {@link AugmentPlan} to the samples of one stream (a seed and an epoch), one sample at
 * a time. Every random choice is drawn from a generator keyed by (seed, epoch, sample id,
 * transform), so a sample's output does not depend on where it came from (stored or synthetic),
 * on its batch mates, or on which batch carried it. Thread-safe: it holds no mutable state.
 */
public final class Augmenter {
  /** Sends every field as stored. */
  public static final Augmenter NONE = new Augmenter(null, 0, 0);

  private final AugmentPlan plan;
  private final long streamKey;

  /**
   * An augmenter for the stream with this seed and epoch.
   *
   * @param plan the compiled spec; null for none
   */
  public Augmenter(AugmentPlan plan, long seed, long epoch) {
    this.plan = plan;
    this.streamKey = streamKey(seed, epoch);
  }

  /** The field augmented and the bytes sent for it: its dtype and its data. */
  public record AugmentedField(DType dtype, byte[] data) {}

  /** The resume-token digest of the augmentation: empty for none. */
  public String digest() {
    return plan == null ? "" : plan.digest();
  }

  /** The dtype sent for {@code field}. */
  public DType outputDType(FieldSpec field) {
    return augments(field) ? plan.outputDType() : field.dtype();
  }

  /** Bytes of one sample of {@code field} as sent. */
  public long outputSampleBytes(FieldSpec field) {
    return augments(field) ? plan.outputSampleBytes() : field.sampleBytes();
  }

  /** Whether {@code field} is the one this augmentation transforms. */
  public boolean augments(FieldSpec field) {
    return plan != null && plan.field().name().equals(field.name());
  }

  /**
   * Augments the consecutive samples of one field.
   *
   * @param field the field {@code samples} belongs to; fields the plan does not name pass as they
   *     are
   * @param sampleIds the id of each sample (synthetic samples: N + i)
   * @param samples {@code sampleIds.length} samples of {@code field}, little-endian, C order; may
   *     be changed in place and returned
   * @return the dtype and bytes to send, of the same shape
   * @throws IOException when an autoencoder fails to run
   */
  public AugmentedField apply(FieldSpec field, long[] sampleIds, byte[] samples)
      throws IOException {
    if (!augments(field)) {
      return new AugmentedField(field.dtype(), samples);
    }
    int n = sampleIds.length;
    AugmentPlan.AutoencoderStep ae = plan.autoencoder();
    if (ae != null) {
      long[] keys = new long[n];
      boolean[] selected = new boolean[n];
      boolean any = false;
      for (int i = 0; i < n; i++) {
        SplitMix64 r = random(sampleIds[i], AugmentPlan.AutoencoderStep.KEY_INDEX);
        selected[i] = r.nextDouble() < ae.probability();
        keys[i] = r.nextLong();
        any |= selected[i];
      }
      if (any) {
        ae.augmenter().augment(field, ae.mode(), ae.strength(), keys, selected, samples);
      }
    }
    DType inType = field.dtype();
    DType outType = plan.outputDType();
    int inBytes = Math.toIntExact(field.sampleBytes());
    int outBytes = Math.toIntExact(plan.outputSampleBytes());
    byte[] out = outType == inType ? samples : new byte[Math.multiplyExact(n, outBytes)];
    ByteBuffer in = ByteBuffer.wrap(samples).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer dst = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    List<Transform> transforms = plan.transforms();
    SplitMix64[] fired = new SplitMix64[transforms.size()];
    Normalization norm = plan.normalization();
    Image image = null;
    for (int i = 0; i < n; i++) {
      boolean any = false;
      for (int t = 0; t < fired.length; t++) {
        Transform tr = transforms.get(t);
        SplitMix64 r = random(sampleIds[i], tr.keyIndex());
        fired[t] = r.nextDouble() < tr.probability() ? r : null;
        any |= fired[t] != null;
      }
      if (!any && norm == null) {
        // Untouched samples keep their exact bytes, whatever the dtype.
        continue;
      }
      if (image == null) {
        image = new Image(plan.height(), plan.width(), plan.channels());
      }
      SampleCodec.decode(in, i * inBytes, inType, plan.layout(), image);
      for (int t = 0; t < fired.length; t++) {
        if (fired[t] != null) {
          transforms.get(t).apply(image, fired[t]);
        }
      }
      if (norm != null) {
        norm.apply(image);
      }
      SampleCodec.encode(image, outType, plan.layout(), dst, i * outBytes);
    }
    return new AugmentedField(outType, out);
  }

  /**
   * The generator of transform {@code keyIndex} for sample {@code id}:
   * {@code SplitMix64(mix(mix(streamKey + mix(id)) + keyIndex))}.
   */
  SplitMix64 random(long id, int keyIndex) {
    long sampleKey = SplitMix64.mix(streamKey + SplitMix64.mix(id));
    return new SplitMix64(SplitMix64.mix(sampleKey + keyIndex));
  }

  /**
   * The first 8 bytes, little-endian, of
   * {@code SHA-256("trainfeed.augment.v1\0" ‖ seed (8 bytes LE) ‖ epoch (8 bytes LE))}.
   */
  static long streamKey(long seed, long epoch) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update("trainfeed.augment.v1\0".getBytes(StandardCharsets.UTF_8));
      sha.update(ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(seed)
          .putLong(epoch).array());
      return ByteBuffer.wrap(sha.digest()).order(ByteOrder.LITTLE_ENDIAN).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
