package dev.trainfeed.client;

import java.util.List;

/**
 * A generative model the server runs.
 *
 * @param name the model's name, as {@link TrainFeedClient#synthesize(String)} takes it
 * @param kind {@code gan}, {@code vae} or {@code ae} (an autoencoder only augments; it cannot be
 *     sampled)
 * @param version SHA-256 of the model files and descriptor
 * @param outputs the fields one synthetic sample has
 * @param latentDim components of the latent vector
 * @param provider the execution provider in use: {@code cpu} or {@code cuda:N}
 * @param conditional whether the model takes a class ({@link SynthesizeBuilder#classLabel(long)})
 */
public record ModelInfo(String name, String kind, String version, List<FieldInfo> outputs,
    int latentDim, String provider, boolean conditional) {

  /** Copies {@code outputs}. */
  public ModelInfo {
    outputs = List.copyOf(outputs);
  }
}
