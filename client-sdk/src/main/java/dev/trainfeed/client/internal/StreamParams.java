package dev.trainfeed.client.internal;

import dev.trainfeed.client.Augmentation;
import java.util.List;

/**
 * The settings that fix a batch stream, as validated by the public builder.
 *
 * @param dataset dataset name or NAME@VERSION
 * @param batchSize samples per batch, ≥ 1
 * @param shuffle whether to shuffle
 * @param seed shuffle seed, read as unsigned on the wire
 * @param rank this reader's rank, 0 ≤ rank &lt; worldSize
 * @param worldSize number of ranks, ≥ 1
 * @param fields fields to fetch; empty means all
 * @param dropLast whether to drop the short last batch and the ranks' uneven remainder
 * @param shuffleWindow shuffle window in chunks; 0 means the server default
 * @param firstEpoch the first epoch to read
 * @param epochs how many epochs to read, ≥ 1
 * @param resumeToken wire bytes of the token to start the first epoch from; empty for none
 * @param prefetch batches requested ahead, ≥ 1
 * @param augmentation server-side augmentation; null for none
 * @param syntheticModel the model whose samples are mixed in; empty for none
 * @param syntheticFraction the fraction of each batch that is synthetic, in [0, 1)
 */
public record StreamParams(String dataset, int batchSize, boolean shuffle, long seed, int rank,
    int worldSize, List<String> fields, boolean dropLast, int shuffleWindow, long firstEpoch,
    long epochs, byte[] resumeToken, int prefetch, Augmentation augmentation,
    String syntheticModel, double syntheticFraction) {}
