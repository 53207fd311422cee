package dev.trainfeed.server.stream;

import dev.trainfeed.server.augment.Augmenter;
import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.order.ChunkVisits;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.store.ChunkInfo;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the batches of one stream: looks up each position's sample and gathers slices of its
 * bytes in the decoded chunks into one {@link TensorPayload} per field. At construction it tells
 * the chunk source every chunk the stream will visit, in order, so that they load ahead of it.
 *
 * <p>The chunks of the current shuffle window stay referenced in a small working set, because a
 * window's samples are spread over all of its chunks; each is fetched from the cache once per pass.
 * Cached chunks may be pinned views of the cache's pages ({@link ChunkBytes}), so a chunk leaves
 * the working set as soon as the stream has read its last sample of it (counted in advance from
 * the epoch order), or when the set is full. It is released only when the next batch is
 * assembled, since the batch just built may still slice it and is written after {@link
 * #assemble} returns; {@link #release()} lets go of the rest. Not thread-safe: one stream, one
 * assembler.
 */
final class BatchAssembler implements BatchSource {
  private final StreamPlan plan;
  private final ChunkSource.Reader chunks;
  private final ResumeTokenCodec tokens;
  private final Map<Integer, ChunkBytes> workingSet;
  /** Left the working set while a batch was built; released before the next one is. */
  private final List<ChunkBytes> retired = new ArrayList<>();
  /** Per chunk, the sample reads this stream still has to make from it. */
  private final int[] usesLeft;

  BatchAssembler(StreamPlan plan, ChunkSource source, ResumeTokenCodec tokens) {
    this.plan = plan;
    this.tokens = tokens;
    int window = plan.settings().shuffle() ? plan.settings().shuffleWindow() : 1;
    int capacity = window + 1;
    this.workingSet = new LinkedHashMap<>(capacity * 2, 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, ChunkBytes> eldest) {
        if (size() > capacity) {
          retired.add(eldest.getValue());
          return true;
        }
        return false;
      }
    };
    DatasetManifest ds = plan.dataset();
    ChunkVisits.Visits visits = ChunkVisits.visits(plan.order(), plan.shard(), plan.firstBatch(),
        ds.chunks().size(), ds::chunkOf);
    this.usesLeft = visits.uses();
    this.chunks = source.open(ds, visits.sequence());
  }

  /**
   * The batch {@code index} of this stream's epoch. Its tensors are slices of the working set's
   * chunk buffers, not copies: the marshaller copies them once, into the transport's buffers.
   */
  @Override
  public BatchPayload assemble(long index) throws Exception {
    // The previous batch has been written: nothing slices the chunks it retired any more.
    releaseRetired();
    DatasetManifest ds = plan.dataset();
    int n = plan.shard().batchLength(index);
    long first = plan.shard().firstPosition(index);
    int k = plan.syntheticPerBatch();

    int[] fields = plan.fieldIndexes();
    TensorPayload[] tensors = new TensorPayload[fields.length];
    long[] sampleBytes = new long[fields.length];
    for (int f = 0; f < fields.length; f++) {
      FieldSpec spec = ds.fields().get(fields[f]);
      sampleBytes[f] = spec.sampleBytes();
      long[] shape = new long[spec.shape().length + 1];
      shape[0] = n + k;
      for (int d = 0; d < spec.shape().length; d++) {
        shape[d + 1] = spec.shape()[d];
      }
      tensors[f] = new TensorPayload(spec.name(), spec.dtype().wireNumber(), shape);
    }
    long[] ids = new long[n + k];
    boolean anyPadding = false;
    boolean[] padding = new boolean[n + k];
    for (int i = 0; i < n; i++) {
      long ext = first + i;
      padding[i] = plan.shard().isPadding(ext);
      anyPadding |= padding[i];
      long id = plan.order().sampleAt(plan.shard().orderPosition(ext));
      ids[i] = id;
      int c = ds.chunkOf(id);
      ChunkInfo chunk = ds.chunks().get(c);
      ChunkBytes bytes = chunkBytes(c);
      long inChunk = id - chunk.firstSample();
      for (int f = 0; f < fields.length; f++) {
        long src = ds.fieldOffset(chunk, fields[f]) + inChunk * sampleBytes[f];
        bytes.slices(Math.toIntExact(src), (int) sampleBytes[f], tensors[f]);
      }
      if (usesLeft[c] > 0 && --usesLeft[c] == 0) {
        // Its last sample of the epoch: let it go (after this batch is written) rather than
        // keep it pinned in the cache until the working set pushes it out.
        ChunkBytes done = workingSet.remove(c);
        if (done != null) {
          retired.add(done);
        }
      }
    }
    boolean[] synthetic = new boolean[0];
    if (k > 0) {
      // Synthetic sample i of this (rank, epoch) stream has id N + i; batch b holds b·k … b·k+k-1.
      long firstSynthetic = index * k;
      byte[][] tail = plan.synthetic().fields(firstSynthetic, k);
      synthetic = new boolean[n + k];
      for (int j = 0; j < k; j++) {
        ids[n + j] = ds.numSamples() + firstSynthetic + j;
        synthetic[n + j] = true;
      }
      for (int f = 0; f < fields.length; f++) {
        tensors[f].add(ByteBuffer.wrap(tail[f]), 0, tail[f].length);
      }
    }
    // Augmentation applies to real and synthetic samples alike, keyed by their ids.
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
        plan.settings().token(tokens, index + 1), synthetic,
        anyPadding ? padding : new boolean[0]);
  }

  /**
   * Releases the working set's chunks (unpinning cached pages), ends the look-ahead and lets the
   * synthetic model go. Called once no batch of this stream is being written any more.
   */
  @Override
  public void release() {
    retired.addAll(workingSet.values());
    workingSet.clear();
    releaseRetired();
    chunks.close();
    if (plan.synthetic() != null) {
      plan.synthetic().close();
    }
  }

  /**
   * Ends the look-ahead, so the stream leaves the prefetcher's registry. Safe from any thread: a
   * cancelled stream's drain task may never run again to {@link #release} it.
   */
  @Override
  public void endLookahead() {
    chunks.close();
  }

  private void releaseRetired() {
    for (ChunkBytes b : retired) {
      b.release();
    }
    retired.clear();
  }

  private ChunkBytes chunkBytes(int chunk) throws IOException {
    ChunkBytes b = workingSet.get(chunk);
    if (b == null) {
      b = chunks.chunk(chunk);
      workingSet.put(chunk, b);
    }
    return b;
  }
}
