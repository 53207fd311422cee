package dev.trainfeed.server.stream;

import dev.trainfeed.server.augment.Augmenter;
import dev.trainfeed.server.order.EpochOrder;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the batches of one stream: looks up each position's sample, gathers slices of its bytes
 * in the decoded chunks into one {@link TensorPayload} per field, and asks for the chunks ahead to
 * be loaded.
 *
 * <p>The chunks of the current shuffle window stay referenced in a small working set, because a
 * window's samples are spread over all of its chunks; each is fetched from the cache once per pass.
 * Not thread-safe: one stream, one assembler.
 */
final class BatchAssembler {
  private final StreamPlan plan;
  private final ChunkSource source;
  private final ResumeTokenCodec tokens;
  private final Map<Integer, ByteBuffer> workingSet;
  private final long lookaheadSamples;
  private final EpochOrder lookaheadOrder;
  /** Extended-order positions below this one have had their chunks prefetched. */
  private long prefetchedTo;
  /** Chunks asked for recently, so that a window's chunks are asked for once, not per sample. */
  private final Map<Integer, Boolean> recentlyPrefetched;

  BatchAssembler(StreamPlan plan, ChunkSource source, ResumeTokenCodec tokens) {
    this.plan = plan;
    this.source = source;
    this.tokens = tokens;
    int window = plan.settings().shuffle() ? plan.settings().shuffleWindow() : 1;
    int capacity = window + 1;
    this.workingSet = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, ByteBuffer> eldest) {
        return size() > capacity;
      }
    };
    int recent = 4 * capacity;
    this.recentlyPrefetched = new LinkedHashMap<>(recent * 2, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
        return size() > recent;
      }
    };
    DatasetManifest ds = plan.dataset();
    long avgChunk = Math.max(1, ds.numSamples() / ds.chunks().size());
    // Look a window (or two chunks when unshuffled) ahead: a window starts by needing all of it.
    this.lookaheadSamples = avgChunk * Math.max(2, window);
    this.lookaheadOrder = plan.order().cursor();
  }

  /**
   * The batch {@code index} of this stream's epoch. Its tensors are slices of the working set's
   * chunk buffers, not copies: the marshaller copies them once, into the transport's buffers.
   */
  BatchPayload assemble(long index) throws IOException {
    DatasetManifest ds = plan.dataset();
    int n = plan.shard().batchLength(index);
    long first = plan.shard().firstPosition(index);
    prefetchThrough(first, first + n + lookaheadSamples);

    int[] fields = plan.fieldIndexes();
    TensorPayload[] tensors = new TensorPayload[fields.length];
    long[] sampleBytes = new long[fields.length];
    for (int f = 0; f < fields.length; f++) {
      FieldSpec spec = ds.fields().get(fields[f]);
      sampleBytes[f] = spec.sampleBytes();
      long[] shape = new long[spec.shape().length + 1];
      shape[0] = n;
      for (int d = 0; d < spec.shape().length; d++) {
        shape[d + 1] = spec.shape()[d];
      }
      tensors[f] = new TensorPayload(spec.name(), spec.dtype().wireNumber(), shape);
    }
    long[] ids = new long[n];
    boolean anyPadding = false;
    boolean[] padding = new boolean[n];
    for (int i = 0; i < n; i++) {
      long ext = first + i;
      padding[i] = plan.shard().isPadding(ext);
      anyPadding |= padding[i];
      long id = plan.order().sampleAt(plan.shard().orderPosition(ext));
      ids[i] = id;
      int c = ds.chunkOf(id);
      ChunkInfo chunk = ds.chunks().get(c);
      ByteBuffer bytes = chunkBytes(c);
      long inChunk = id - chunk.firstSample();
      for (int f = 0; f < fields.length; f++) {
        long src = ds.fieldOffset(chunk, fields[f]) + inChunk * sampleBytes[f];
        tensors[f].add(bytes, Math.toIntExact(src), (int) sampleBytes[f]);
      }
    }
    for (int f = 0; f < fields.length; f++) {
      FieldSpec spec = ds.fields().get(fields[f]);
      if (plan.augmenter().augments(spec)) {
        // Augmented samples are new bytes: gather the slices once and transform them.
        Augmenter.AugmentedField sent = plan.augmenter().apply(spec, ids, tensors[f].copyData());
        tensors[f] = new TensorPayload(spec.name(), sent.dtype().wireNumber(),
            tensors[f].shape()).add(ByteBuffer.wrap(sent.data()), 0, sent.data().length);
      }
    }
    return new BatchPayload(index, plan.settings().epoch(), ids, List.of(tensors),
        plan.settings().token(tokens, index + 1), new boolean[0],
        anyPadding ? padding : new boolean[0]);
  }

  /** Drops the working set so that its chunks can be collected. */
  void release() {
    workingSet.clear();
  }

  private ByteBuffer chunkBytes(int chunk) throws IOException {
    ByteBuffer b = workingSet.get(chunk);
    if (b == null) {
      b = source.chunk(plan.dataset(), chunk);
      workingSet.put(chunk, b);
    }
    return b;
  }

  private void prefetchThrough(long from, long end) {
    long limit = Math.min(end, plan.shard().firstPosition(0) + plan.shard().samplesPerRank());
    for (long ext = Math.max(prefetchedTo, from); ext < limit; ext++) {
      int c = plan.dataset().chunkOf(lookaheadOrder.sampleAt(plan.shard().orderPosition(ext)));
      if (!workingSet.containsKey(c) && recentlyPrefetched.put(c, Boolean.TRUE) == null) {
        source.prefetch(plan.dataset(), c);
      }
    }
    prefetchedTo = Math.max(prefetchedTo, limit);
  }
}
