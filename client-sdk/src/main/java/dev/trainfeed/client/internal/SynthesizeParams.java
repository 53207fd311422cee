package dev.trainfeed.client.internal;

/**
 * The settings that fix a Synthesize stream, as validated by the public builder.
 *
 * @param model model name
 * @param count samples in the whole stream, ≥ 1
 * @param batchSize samples per batch, ≥ 1
 * @param seed latent seed, read as unsigned on the wire
 * @param classLabel the class of every sample, or null to let the server draw them
 * @param resumeToken wire bytes of the token to start from; empty for none
 * @param prefetch batches requested ahead, ≥ 1
 */
public record SynthesizeParams(String model, long count, int batchSize, long seed,
    Long classLabel, byte[] resumeToken, int prefetch) {}
