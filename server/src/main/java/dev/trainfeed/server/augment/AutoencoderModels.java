package dev.trainfeed.server.augment;

import java.util.Optional;

/** Looks up the autoencoders a server runs, by model name. */
@FunctionalInterface
public interface AutoencoderModels {
  /** A server that runs no autoencoder: every name is unknown. */
  AutoencoderModels NONE = name -> Optional.empty();

  /** The autoencoder named {@code name}, or empty when this server does not run it. */
  Optional<AutoencoderAugmenter> find(String name);
}
