package dev.trainfeed.server.stream;

/**
 * What {@link BatchStreamer} sends: batches by index. {@code StreamBatches} reads them from the
 * dataset ({@link BatchAssembler}), {@code Synthesize} generates them ({@link SynthesisSource}).
 * Called from one drain task at a time, except {@link #endLookahead}.
 */
interface BatchSource {

  /** The batch {@code index}. */
  BatchPayload assemble(long index) throws Exception;

  /** Lets go of what the source holds; called once when the stream ends, however it ends. */
  void release();

  /** The stream ended: stop loading ahead for it. Safe from any thread; default: nothing. */
  default void endLookahead() {}
}
