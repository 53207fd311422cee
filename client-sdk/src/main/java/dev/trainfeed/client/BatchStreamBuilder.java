package dev.trainfeed.client;

import dev.trainfeed.client.internal.BatchStream;
import dev.trainfeed.client.internal.Replicas;
import dev.trainfeed.client.internal.StreamParams;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;

/**
 * Settings of one batch stream over a dataset; {@link #open()} starts it. Made by {@link
 * TrainFeedClient#batches(String)}. Only {@link #batchSize(int)} is required.
 *
 * <p>Epochs: the stream reads {@code epochs} epochs, {@code epoch}, {@code epoch + 1}, …, one
 * StreamBatches call each. With {@link #resumeFrom(ResumeToken)} the first of them is the token's
 * epoch and it starts after the token's batch; the count stays the total number of epochs read,
 * counting the resumed one.
 */
public final class BatchStreamBuilder {
  private final Replicas replicas;
  private final String dataset;
  private int batchSize;
  private boolean shuffle;
  private long seed;
  private long epoch;
  private boolean epochSet;
  private long epochs = 1;
  private int rank;
  private int worldSize = 1;
  private List<String> fields = List.of();
  private boolean dropLast;
  private int shuffleWindow;
  private int prefetch = 4;
  private ResumeToken resumeFrom;
  private Augmentation augmentation;
  private String syntheticModel = "";
  private double syntheticFraction;

  BatchStreamBuilder(Replicas replicas, String dataset) {
    this.replicas = replicas;
    this.dataset = dataset;
  }

  /**
   * Sets the number of samples per batch; required. The last batch of an epoch may be shorter
   * unless {@link #dropLast(boolean)}.
   *
   * @param batchSize ≥ 1
   */
  public BatchStreamBuilder batchSize(int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, was " + batchSize);
    }
    this.batchSize = batchSize;
    return this;
  }

  /**
   * Turns shuffling on with this seed. The order depends only on (dataset version, seed, epoch,
   * shuffle window). Default: no shuffling, stored order.
   *
   * @param seed any value; read as unsigned 64-bit by the server
   */
  public BatchStreamBuilder shuffle(long seed) {
    this.shuffle = true;
    this.seed = seed;
    return this;
  }

  /** Turns shuffling on or off; default off. The seed is {@link #seed(long)}'s, default 0. */
  public BatchStreamBuilder shuffle(boolean shuffle) {
    this.shuffle = shuffle;
    return this;
  }

  /** Sets the shuffle seed without changing whether to shuffle; default 0. */
  public BatchStreamBuilder seed(long seed) {
    this.seed = seed;
    return this;
  }

  /**
   * Sets the first epoch to read; default 0, or the epoch of the {@link #resumeFrom(ResumeToken)}
   * token. When resuming from a token made by {@link ResumeToken#fromBytes(byte[])} or {@link
   * ResumeToken#parse(String)}, set this to the epoch of the batch the token came from: the server
   * refuses a mismatch with FAILED_PRECONDITION.
   *
   * @param epoch ≥ 0
   */
  public BatchStreamBuilder epoch(long epoch) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be >= 0, was " + epoch);
    }
    this.epoch = epoch;
    this.epochSet = true;
    return this;
  }

  /**
   * Sets how many epochs to read, one after another; default 1. {@code Long.MAX_VALUE} reads
   * until closed.
   *
   * @param count ≥ 1
   */
  public BatchStreamBuilder epochs(long count) {
    if (count < 1) {
      throw new IllegalArgumentException("epochs must be >= 1, was " + count);
    }
    this.epochs = count;
    return this;
  }

  /**
   * Reads only this rank's share of each epoch; default rank 0 of 1. Every rank gets the same
   * number of batches.
   *
   * @param rank 0 ≤ rank &lt; worldSize
   * @param worldSize number of ranks, ≥ 1
   */
  public BatchStreamBuilder shard(int rank, int worldSize) {
    if (worldSize < 1 || rank < 0 || rank >= worldSize) {
      throw new IllegalArgumentException("shard needs 0 <= rank < worldSize and worldSize >= 1, was"
          + " rank " + rank + " of " + worldSize);
    }
    this.rank = rank;
    this.worldSize = worldSize;
    return this;
  }

  /**
   * Fetches only these fields; default (none given) all fields.
   *
   * @param names distinct, non-empty field names
   */
  public BatchStreamBuilder fields(String... names) {
    List<String> list = new ArrayList<>(names.length);
    for (String name : names) {
      if (name == null || name.isEmpty()) {
        throw new IllegalArgumentException("field names must be non-empty");
      }
      list.add(name);
    }
    if (new HashSet<>(list).size() != list.size()) {
      throw new IllegalArgumentException("field names must be distinct, were " + list);
    }
    this.fields = List.copyOf(list);
    return this;
  }

  /**
   * Drops the short last batch and the remainder that does not divide among ranks, instead of
   * padding with repeats; default false.
   */
  public BatchStreamBuilder dropLast(boolean dropLast) {
    this.dropLast = dropLast;
    return this;
  }

  /**
   * Sets the shuffle window: samples are shuffled within this many consecutive chunks after the
   * chunks themselves are shuffled. Default: the server's, 16 chunks.
   *
   * @param chunks ≥ 1
   */
  public BatchStreamBuilder shuffleWindow(int chunks) {
    if (chunks < 1) {
      throw new IllegalArgumentException("shuffleWindow must be >= 1 chunk, was " + chunks);
    }
    this.shuffleWindow = chunks;
    return this;
  }

  /**
   * Sets how many batches are requested ahead of the caller through gRPC flow control; default 4.
   * Memory held is about prefetch × batch bytes.
   *
   * @param depth 1 to 1024
   */
  public BatchStreamBuilder prefetch(int depth) {
    if (depth < 1 || depth > 1024) {
      throw new IllegalArgumentException("prefetch must be between 1 and 1024 batches, was " + depth);
    }
    this.prefetch = depth;
    return this;
  }

  /**
   * Mixes synthetic samples from {@code model} into every batch: k = floor(fraction × batchSize +
   * 0.5) samples at the end of each batch, flagged by {@link Batch#isSynthetic(int)}, with ids
   * N + i; batches then hold batchSize − k real samples. Default: no synthetic samples. The model
   * must yield every fetched field in the dataset's dtype and shape (select fields with {@link
   * #fields(String...)} otherwise); the server checks this when the stream opens.
   *
   * @param model a model from {@link TrainFeedClient#models()}
   * @param fraction in [0, 1); k must come out below batchSize
   */
  public BatchStreamBuilder synthetic(String model, double fraction) {
    if (model == null || model.isEmpty()) {
      throw new IllegalArgumentException("synthetic model must be named; see client.models()");
    }
    if (!(fraction >= 0 && fraction < 1)) {
      throw new IllegalArgumentException("synthetic fraction must be in [0, 1), was " + fraction);
    }
    this.syntheticModel = model;
    this.syntheticFraction = fraction;
    return this;
  }

  /**
   * Starts after the batch that carried {@code token}, in that batch's epoch; the other settings
   * must be the ones that stream had (only {@link #fields(String...)} may differ). Default: start at
   * the beginning of {@link #epoch(long)}.
   */
  public BatchStreamBuilder resumeFrom(ResumeToken token) {
    if (token == null) {
      throw new IllegalArgumentException("token must not be null; omit resumeFrom(...) to start at"
          + " the beginning of the epoch");
    }
    this.resumeFrom = token;
    return this;
  }

  /**
   * Augments one image field on the server, per sample; default none. A resumed stream must use
   * the same augmentation (the server refuses another with FAILED_PRECONDITION naming
   * {@code augment}).
   */
  public BatchStreamBuilder augment(Augmentation augmentation) {
    if (augmentation == null) {
      throw new IllegalArgumentException("augmentation must not be null; omit augment(...) for "
          + "none");
    }
    this.augmentation = augmentation;
    return this;
  }

  /**
   * Opens the stream and requests the first {@code prefetch} batches.
   *
   * @throws IllegalStateException if {@link #batchSize(int)} was not called
   * @throws IllegalArgumentException if {@link #epoch(long)} contradicts the resume token's epoch
   */
  public BatchIterator open() {
    if (batchSize == 0) {
      throw new IllegalStateException("call batchSize(n) before open()");
    }
    long firstEpoch = epoch;
    byte[] token = new byte[0];
    if (resumeFrom != null) {
      OptionalLong tokenEpoch = resumeFrom.epoch();
      if (tokenEpoch.isPresent() && epochSet && tokenEpoch.getAsLong() != epoch) {
        throw new IllegalArgumentException("epoch(" + epoch + ") contradicts the resume token, which"
            + " belongs to epoch " + tokenEpoch.getAsLong() + "; drop epoch(...) or the token");
      }
      firstEpoch = tokenEpoch.orElse(epoch);
      token = resumeFrom.toBytes();
    }
    return new BatchStream(replicas, new StreamParams(dataset, batchSize, shuffle, seed, rank,
        worldSize, fields, dropLast, shuffleWindow, firstEpoch, epochs, token, prefetch,
        augmentation, syntheticModel, syntheticFraction));
  }
}
