package dev.trainfeed.server.stream;

import com.google.protobuf.UnsafeByteOperations;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.Tensor;
import dev.trainfeed.server.order.EpochOrder;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds the batches of one stream: looks up each position's sample, copies its bytes out of the
 * decoded chunks into one contiguous array per field, and asks for the chunks ahead to be loaded.
 *
 * <p>The chunks of the current shuffle window stay referenced in a small working set, because a
 * window's samples are spread over all of its chunks; each is fetched from the cache once per pass.
 * Not thread-safe: one stream, one assembler.
 */
final class BatchAssembler implements BatchSource {
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

  /** The batch {@code index} of this stream's epoch. */
  @Override
  public Batch assemble(long index) throws IOException {
    DatasetManifest ds = plan.dataset();
    int n = plan.shard().batchLength(index);
    long first = plan.shard().firstPosition(index);
    prefetchThrough(first, first + n + lookaheadSamples);

    int[] fields = plan.fieldIndexes();
    int k = plan.syntheticPerBatch();
    byte[][] out = new byte[fields.length][];
    long[] sampleBytes = new long[fields.length];
    for (int f = 0; f < fields.length; f++) {
      sampleBytes[f] = ds.fields().get(fields[f]).sampleBytes();
      out[f] = new byte[Math.toIntExact(sampleBytes[f] * (n + k))];
    }
    Batch.Builder batch = Batch.newBuilder().setIndex(index).setEpoch(plan.settings().epoch());
    boolean anyPadding = false;
    boolean[] padding = new boolean[n];
    for (int i = 0; i < n; i++) {
      long ext = first + i;
      padding[i] = plan.shard().isPadding(ext);
      anyPadding |= padding[i];
      long id = plan.order().sampleAt(plan.shard().orderPosition(ext));
      batch.addSampleIds(id);
      int c = ds.chunkOf(id);
      ChunkInfo chunk = ds.chunks().get(c);
      ByteBuffer bytes = chunkBytes(c);
      long inChunk = id - chunk.firstSample();
      for (int f = 0; f < fields.length; f++) {
        long src = ds.fieldOffset(chunk, fields[f]) + inChunk * sampleBytes[f];
        bytes.get(Math.toIntExact(src), out[f], Math.toIntExact(i * sampleBytes[f]),
            (int) sampleBytes[f]);
      }
    }
    if (anyPadding) {
      for (boolean p : padding) {
        batch.addPadding(p);
      }
      for (int j = 0; j < k; j++) {
        batch.addPadding(false);
      }
    }
    if (k > 0) {
      appendSynthetic(batch, index, n, k, out, sampleBytes);
    }
    for (int f = 0; f < fields.length; f++) {
      FieldSpec spec = ds.fields().get(fields[f]);
      Tensor.Builder t = Tensor.newBuilder()
          .setName(spec.name())
          .setDtype(DType.forNumber(spec.dtype().wireNumber()))
          .addShape(n + k);
      for (long d : spec.shape()) {
        t.addShape(d);
      }
      // The array is ours alone from here on, so wrapping it without a copy is safe.
      batch.addTensors(t.setData(UnsafeByteOperations.unsafeWrap(out[f])));
    }
    batch.setResumeToken(UnsafeByteOperations.unsafeWrap(
        plan.settings().token(tokens, index + 1)));
    return batch.build();
  }

  /**
   * Appends the k synthetic samples of batch {@code index} (indices {@code index·k …}, ids
   * {@code N + index·k …}) after the {@code n} real ones.
   */
  private void appendSynthetic(Batch.Builder batch, long index, int n, int k, byte[][] out,
      long[] sampleBytes) {
    long first = index * k;
    byte[][] tail;
    try {
      tail = plan.synthetic().fields(first, k);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("synthesis failed: " + e.getMessage(), e);
    }
    for (int f = 0; f < out.length; f++) {
      System.arraycopy(tail[f], 0, out[f], Math.toIntExact(n * sampleBytes[f]),
          Math.toIntExact(k * sampleBytes[f]));
    }
    for (int i = 0; i < n; i++) {
      batch.addSynthetic(false);
    }
    for (int j = 0; j < k; j++) {
      batch.addSampleIds(plan.dataset().numSamples() + first + j);
      batch.addSynthetic(true);
    }
  }

  /** Drops the working set so that its chunks can be collected, and the synthetic model. */
  @Override
  public void release() {
    workingSet.clear();
    if (plan.synthetic() != null) {
      plan.synthetic().close();
    }
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
