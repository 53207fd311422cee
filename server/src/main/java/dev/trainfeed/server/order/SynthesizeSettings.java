package dev.trainfeed.server.order;

import java.util.Optional;

/**
 * Everything that fixes a {@code Synthesize} stream, as recorded in its resume tokens.
 *
 * @param model the model name
 * @param modelVersion the model version the stream started on
 * @param seed the latent seed
 * @param count samples in the whole stream
 * @param batchSize samples per batch
 * @param classLabel the requested class, or -1 for none (classes are never negative)
 */
public record SynthesizeSettings(String model, String modelVersion, long seed, long count,
    int batchSize, long classLabel) {

  /** The first field, by its wire name, that differs from a request's; empty when none does. */
  public Optional<String> firstDifference(SynthesizeSettings request) {
    if (!model.equals(request.model)) {
      return Optional.of("model");
    }
    if (!modelVersion.equals(request.modelVersion)) {
      return Optional.of("model (version; the model was replaced since the token was issued)");
    }
    if (seed != request.seed) {
      return Optional.of("seed");
    }
    if (count != request.count) {
      return Optional.of("count");
    }
    if (batchSize != request.batchSize) {
      return Optional.of("batch_size");
    }
    if (classLabel != request.classLabel) {
      return Optional.of("class_label");
    }
    return Optional.empty();
  }

  /** A signed token that resumes this stream at sample index {@code nextIndex}. */
  public byte[] token(ResumeTokenCodec codec, long nextIndex) {
    return codec.sign(ResumeTokenCodec.KIND_SYNTHESIZE, out -> {
      out.writeUTF(model);
      out.writeUTF(modelVersion);
      out.writeLong(seed);
      out.writeLong(count);
      out.writeInt(batchSize);
      out.writeLong(classLabel);
      out.writeLong(nextIndex);
    });
  }

  /** A verified token: the settings it records and the index it resumes at. */
  public record Position(SynthesizeSettings settings, long nextIndex) {
    /** Validates the position. */
    public Position {
      if (nextIndex < 0) {
        throw new IllegalArgumentException("negative index " + nextIndex);
      }
    }
  }

  /**
   * Verifies and decodes a {@code Synthesize} token.
   *
   * @throws InvalidResumeTokenException malformed, forged, or not a {@code Synthesize} token
   */
  public static Position parseToken(ResumeTokenCodec codec, byte[] token)
      throws InvalidResumeTokenException {
    return codec.verify(ResumeTokenCodec.KIND_SYNTHESIZE, token, in -> new Position(
        new SynthesizeSettings(in.readUTF(), in.readUTF(), in.readLong(), in.readLong(),
            in.readInt(), in.readLong()),
        in.readLong()));
  }
}
