package dev.trainfeed.server.stream;

import dev.trainfeed.server.augment.Augmenter;
import dev.trainfeed.server.order.EpochOrder;
import dev.trainfeed.server.order.ShardPlan;
import dev.trainfeed.server.order.StreamSettings;
import dev.trainfeed.server.store.DatasetManifest;

/**
 * A validated {@code StreamBatches} request: what to read, in which order, from which batch on.
 *
 * @param dataset the dataset version being streamed
 * @param fieldIndexes indexes into {@code dataset.fields()} of the fields to send, in request order
 * @param settings what the stream's resume tokens record
 * @param order the epoch order
 * @param shard this rank's share of it
 * @param firstBatch the batch to start with (0, or where a resume token points)
 * @param augmenter what augmentation does to each field ({@link Augmenter#NONE} for none)
 * @param synthetic the synthetic samples appended to every batch; null without a mix
 */
record StreamPlan(
    DatasetManifest dataset,
    int[] fieldIndexes,
    StreamSettings settings,
    EpochOrder order,
    ShardPlan shard,
    long firstBatch,
    Augmenter augmenter,
    SyntheticTail synthetic) {

  /** k, the synthetic samples at the end of every batch (0 without a mix). */
  int syntheticPerBatch() {
    return synthetic == null ? 0 : synthetic.perBatch();
  }

  /** Bytes of the real-sample payload of this stream's largest batch. */
  long largestBatchPayloadBytes() {
    long perSample = 0;
    for (int f : fieldIndexes) {
      perSample += augmenter.outputSampleBytes(dataset.fields().get(f));
    }
    // A batch never holds more than the rank's share, however large batch_size is.
    int k = syntheticPerBatch();
    return perSample * (Math.min(settings.batchSize() - k, shard.samplesPerRank()) + k);
  }
}
