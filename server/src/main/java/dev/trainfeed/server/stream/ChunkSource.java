package dev.trainfeed.server.stream;

import dev.trainfeed.server.cache.ChunkBytes;
import dev.trainfeed.server.store.DatasetManifest;
import java.io.IOException;

/**
 * Where batch assembly gets decoded chunks: in the server, the clairvoyant prefetcher over the
 * cache-backed loader. Each stream opens its own {@link Reader}, telling the source every chunk it
 * will visit, so that they load ahead in that order.
 */
public interface ChunkSource {

  /**
   * Opens the reader of one stream.
   *
   * @param dataset the dataset version streamed
   * @param sequence the distinct chunks the stream will visit, in first-visit order
   */
  Reader open(DatasetManifest dataset, int[] sequence);

  /**
   * One stream's chunks. {@link #chunk} is for the stream's own thread; {@link #close} is safe
   * from any.
   */
  interface Reader extends AutoCloseable {
    /**
     * The decoded bytes of {@code chunk}, blocking until loaded; time spent waiting for storage
     * is counted as data stall. The stream releases them once no batch it has yet to send
     * slices them.
     */
    ChunkBytes chunk(int chunk) throws IOException;

    /**
     * The stream ended: its look-ahead is dropped. Idempotent, safe from any thread; {@link
     * #chunk} still works afterwards, loading on demand.
     */
    @Override
    void close();
  }
}
