package dev.trainfeed.client;

import dev.trainfeed.proto.v1.StreamBatchesRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

/** What the SDK tests read back from an iterator, and the token a request resumed from. */
final class Drained {
  private Drained() {}

  /** Every remaining batch of {@code it}. */
  static List<Batch> drain(BatchIterator it) {
    List<Batch> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  /** The sample ids of {@code batches}, in order. */
  static long[] ids(List<Batch> batches) {
    return batches.stream().flatMapToLong(b -> LongStream.of(b.sampleIds())).toArray();
  }

  /** The resume token of {@code r} as text (the fake server's tokens are UTF-8). */
  static String token(StreamBatchesRequest r) {
    return r.getResumeToken().toString(StandardCharsets.UTF_8);
  }
}
