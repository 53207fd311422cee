package dev.trainfeed.server.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.metrics.ServerMetrics;
import dev.trainfeed.server.order.ResumeKeyring;
import dev.trainfeed.server.order.ResumeTokenCodec;
import dev.trainfeed.server.store.DatasetManifest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Batch assembly over chunks that must be released, as cached pages are. */
class BatchAssemblerTest {
  private static final int N = 203;
  private final SyntheticStore store = new SyntheticStore("toy", N, 7);
  private final ResumeTokenCodec tokens =
      new ResumeTokenCodec(ResumeKeyring.of(List.of(new byte[32])));
  private final ExecutorService pool = Executors.newSingleThreadExecutor();
  private final PoisoningSource source = new PoisoningSource();
  private final DataPlaneService service = new DataPlaneService(store, source, tokens,
      new ServerMetrics(new SimpleMeterRegistry()), pool, new StreamLimits(1 << 20, 4, 1 << 20));

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  /**
   * Hands out each chunk as 10-byte pages (so samples straddle pages) that are zeroed when
   * released: a batch that still slices a released chunk is sent with wrong bytes.
   */
  private final class PoisoningSource implements ChunkSource {
    int leased;
    int released;
    int outstanding;
    int peak;

    @Override
    public Reader open(DatasetManifest dataset, int[] sequence) {
      return new Reader() {
        @Override
        public ChunkBytes chunk(int chunk) throws IOException {
          ByteBuffer all = store.readChunk(dataset, chunk);
          int length = all.remaining();
          ByteBuffer[] pages = new ByteBuffer[(length + 9) / 10];
          for (int p = 0; p < pages.length; p++) {
            byte[] page = new byte[Math.min(10, length - p * 10)];
            all.get(p * 10, page);
            pages[p] = ByteBuffer.wrap(page);
          }
          leased++;
          peak = Math.max(peak, ++outstanding);
          return ChunkBytes.paged(pages, 10, length, () -> {
            for (ByteBuffer p : pages) {
              Arrays.fill(p.array(), (byte) 0);
            }
            released++;
            outstanding--;
          });
        }

        @Override
        public void close() {}
      };
    }
  }

  /** Sends a whole epoch the way {@code BatchStreamer} does: assemble, write, next. */
  private int sendEpoch(StreamBatchesRequest r) throws Exception {
    StreamPlan plan = service.plan(r);
    BatchAssembler a = new BatchAssembler(plan, source, tokens);
    int samples = 0;
    for (long i = 0; i < plan.shard().numBatches(); i++) {
      BatchPayload payload = a.assemble(i);
      ByteArrayOutputStream wire = new ByteArrayOutputStream();
      payload.writeTo(wire);
      Batch b = Batch.parseFrom(wire.toByteArray());
      DataPlaneServiceTest.checkBytes(b);
      samples += b.getSampleIdsCount();
    }
    a.release();
    return samples;
  }

  private static StreamBatchesRequest.Builder req(int batchSize, boolean shuffle, int window) {
    return StreamBatchesRequest.newBuilder().setDataset("toy").setBatchSize(batchSize)
        .setShuffle(shuffle).setSeed(11).setShuffleWindow(window);
  }

  @Test
  void chunksAreReleasedOnlyOnceNoBatchToBeWrittenSlicesThem() throws Exception {
    // Batches that span many more chunks than the working set holds retire chunks they slice.
    assertThat(sendEpoch(req(64, true, 1).build())).isEqualTo(N);
    assertThat(sendEpoch(req(10, true, 4).build())).isEqualTo(N);
    assertThat(sendEpoch(req(5, false, 1).build())).isEqualTo(N);
    assertThat(sendEpoch(req(N, true, 8).build())).isEqualTo(N);
    assertThat(source.outstanding).isZero();
    assertThat(source.released).isEqualTo(source.leased);
  }

  @Test
  void aChunkIsLetGoAfterItsLastSampleNotWhenTheWorkingSetFills() throws Exception {
    // 29 chunks of 7 samples, windows of 4 chunks = 4 batches of 7: each window's chunks are done
    // with its last batch. Keeping them until newer chunks push them out would hold 5 or more.
    assertThat(sendEpoch(req(7, true, 4).build())).isEqualTo(N);
    assertThat(source.peak).isEqualTo(4);
    assertThat(source.outstanding).isZero();
  }

  @Test
  void theWorkingSetHoldsAboutAWindowOfChunks() throws Exception {
    sendEpoch(req(10, true, 4).build());
    // A window of 4 plus one, and what the batch crossing into the next window retired.
    assertThat(source.peak).isLessThanOrEqualTo(2 * (4 + 1));
    assertThat(source.outstanding).isZero();
  }
}
