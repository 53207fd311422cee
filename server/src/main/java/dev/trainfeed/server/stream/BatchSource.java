package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.Batch;

/**
 * What {@link BatchStreamer} sends: batches by index. {@code StreamBatches} reads them from the
 * dataset ({@link BatchAssembler}), {@code Synthesize} generates them ({@link SynthesisSource}).
 * Called from one drain task at a time.
 */
interface BatchSource {

  /** The batch {@code index}. */
  Batch assemble(long index) throws Exception;

  /** Lets go of what the source holds; called once when the stream ends, however it ends. */
  void release();
}
