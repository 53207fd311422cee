package dev.trainfeed.server.order;

import java.util.Optional;

/**
 * Everything that fixes the content of one rank's epoch stream, as recorded in its resume tokens.
 * Defaults are already applied ({@code worldSize} 0 → 1, {@code shuffleWindow} 0 → 16).
 *
 * @param datasetName the dataset's name
 * @param datasetVersion the dataset version the stream reads (pinned by its tokens)
 * @param shuffle whether the epoch is shuffled
 * @param seed the shuffle and augmentation seed
 * @param epoch the epoch number
 * @param shuffleWindow window in chunks
 * @param rank this rank
 * @param worldSize number of ranks
 * @param batchSize samples per batch, real and synthetic
 * @param dropLast whether the tail is dropped
 * @param augment a digest of the augmentation settings, empty for none
 * @param syntheticModel the model mixed in, empty for none
 * @param syntheticFraction the fraction of each batch that is synthetic
 * @param syntheticModelVersion the version of that model, empty for none
 */
public record StreamSettings(
    String datasetName,
    String datasetVersion,
    boolean shuffle,
    long seed,
    long epoch,
    int shuffleWindow,
    int rank,
    int worldSize,
    int batchSize,
    boolean dropLast,
    String augment,
    String syntheticModel,
    double syntheticFraction,
    String syntheticModelVersion) {

  /**
   * The first field, by its wire name, whose value differs between a token's settings and a
   * request's; empty when the token fits the request.
   */
  public Optional<String> firstDifference(StreamSettings request) {
    if (!datasetName.equals(request.datasetName)) {
      return Optional.of("dataset");
    }
    if (!datasetVersion.equals(request.datasetVersion)) {
      return Optional.of("dataset (version)");
    }
    if (shuffle != request.shuffle) {
      return Optional.of("shuffle");
    }
    if (seed != request.seed) {
      return Optional.of("seed");
    }
    if (epoch != request.epoch) {
      return Optional.of("epoch");
    }
    if (shuffleWindow != request.shuffleWindow) {
      return Optional.of("shuffle_window");
    }
    if (rank != request.rank) {
      return Optional.of("rank");
    }
    if (worldSize != request.worldSize) {
      return Optional.of("world_size");
    }
    if (batchSize != request.batchSize) {
      return Optional.of("batch_size");
    }
    if (dropLast != request.dropLast) {
      return Optional.of("drop_last");
    }
    if (!augment.equals(request.augment)) {
      return Optional.of("augment");
    }
    if (!syntheticModel.equals(request.syntheticModel)) {
      return Optional.of("synthetic.model");
    }
    if (Double.compare(syntheticFraction, request.syntheticFraction) != 0) {
      return Optional.of("synthetic.fraction");
    }
    if (!syntheticModelVersion.equals(request.syntheticModelVersion)) {
      return Optional.of("synthetic.model (version)");
    }
    return Optional.empty();
  }

  /** A signed token that resumes this stream at batch {@code nextBatch}. */
  public byte[] token(ResumeTokenCodec codec, long nextBatch) {
    return codec.sign(ResumeTokenCodec.KIND_STREAM, out -> {
      out.writeUTF(datasetName);
      out.writeUTF(datasetVersion);
      out.writeBoolean(shuffle);
      out.writeLong(seed);
      out.writeLong(epoch);
      out.writeInt(shuffleWindow);
      out.writeInt(rank);
      out.writeInt(worldSize);
      out.writeInt(batchSize);
      out.writeBoolean(dropLast);
      out.writeUTF(augment);
      out.writeUTF(syntheticModel);
      out.writeDouble(syntheticFraction);
      out.writeUTF(syntheticModelVersion);
      out.writeLong(nextBatch);
    });
  }

  /** A verified stream token: the settings it records and the batch it resumes at. */
  public record Position(StreamSettings settings, long nextBatch) {
    /** Validates the position. */
    public Position {
      if (nextBatch < 0) {
        throw new IllegalArgumentException("negative batch " + nextBatch);
      }
    }
  }

  /**
   * Verifies and decodes a stream token.
   *
   * @throws InvalidResumeTokenException malformed, forged, or not a stream token
   */
  public static Position parseToken(ResumeTokenCodec codec, byte[] token)
      throws InvalidResumeTokenException {
    return codec.verify(ResumeTokenCodec.KIND_STREAM, token, in -> new Position(
        new StreamSettings(in.readUTF(), in.readUTF(), in.readBoolean(), in.readLong(),
            in.readLong(), in.readInt(), in.readInt(), in.readInt(), in.readInt(),
            in.readBoolean(), in.readUTF(), in.readUTF(), in.readDouble(), in.readUTF()),
        in.readLong()));
  }
}
