package dev.trainfeed.server.cli;

import dev.trainfeed.server.config.Sizes;
import dev.trainfeed.server.store.Compression;
import dev.trainfeed.server.store.CsvIngest;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.IdxIngest;
import dev.trainfeed.server.store.ImageFolderIngest;
import dev.trainfeed.server.store.Ingest;
import dev.trainfeed.server.store.IngestOptions;
import dev.trainfeed.server.store.IngestSource;
import dev.trainfeed.server.store.NpyIngest;
import dev.trainfeed.server.store.WriterOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code trainfeed ingest}: turns a source into a new immutable dataset version. */
@Command(name = "ingest", mixinStandardHelpOptions = true,
    description = "Ingest .npy files, a CSV file, an image folder or MNIST IDX files as a dataset.")
final class IngestCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DataDirOptions dir;

  @Option(names = "--name", required = true,
      description = "Dataset name: 1-128 of A-Z a-z 0-9 . _ -, starting with a letter or digit.")
  String name;

  @Option(names = "--chunk-size", defaultValue = "4m", converter = SizeConverter.class,
      description = "Target decoded bytes per chunk (default: ${DEFAULT-VALUE}); small values "
          + "make many chunks from little data.")
  long chunkSize;

  @Option(names = "--compression", defaultValue = "none",
      description = "Chunk compression at rest: none or zstd (default: ${DEFAULT-VALUE}).")
  String compression;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(names = "--npy", paramLabel = "DIR",
        description = "Folder of FIELD.npy files, first dimension = samples.")
    Path npy;

    @Option(names = "--csv", paramLabel = "FILE",
        description = "CSV with a header row; numeric columns become float32 `features`.")
    Path csv;

    @Option(names = "--images", paramLabel = "DIR",
        description = "Folder of class sub-folders of PNG/JPEG/BMP images (needs --size).")
    Path images;

    @Option(names = "--idx", arity = "2", paramLabel = "FILE",
        description = "MNIST IDX images and labels files (optionally .gz).")
    List<Path> idx;
  }

  @Option(names = "--label-column", description = "CSV column that becomes int64 `label`.")
  String labelColumn;

  @Option(names = "--size", paramLabel = "HxW", description = "Image size for --images, as 28x28.")
  String size;

  @Option(names = "--keep-source-order",
      description = "Write images in folder order instead of a seeded shuffled order.")
  boolean keepSourceOrder;

  @Option(names = "--shuffle-seed", defaultValue = "0",
      description = "Seed of the image write order (default: ${DEFAULT-VALUE}).")
  long shuffleSeed;

  @Option(names = "--quiet", description = "No progress display.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    IngestSource src = source();
    if (chunkSize < 1 || chunkSize > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--chunk-size must be between 1 and 2g");
    }
    WriterOptions writer = WriterOptions.builder()
        .chunkSizeBytes((int) chunkSize)
        .compression(Compression.fromManifestName(compression))
        .build();
    PrintWriter err = spec.commandLine().getErr();
    long[] lastPrint = {0};
    DatasetManifest m = Ingest.run(IngestOptions.builder()
        .dataDir(dir.dataDir())
        .name(name)
        .source(src)
        .writerOptions(writer)
        .progress((done, total) -> {
          long now = System.nanoTime();
          if (!quiet && (done == total || now - lastPrint[0] > 200_000_000L)) {
            lastPrint[0] = now;
            err.printf(Locale.ROOT, "\ringest %s: %d/%d samples (%.0f%%)", name, done, total,
                total == 0 ? 100.0 : 100.0 * done / total);
            if (done == total) {
              err.println();
            }
            err.flush();
          }
        })
        .build());
    spec.commandLine().getOut().printf(Locale.ROOT,
        "ingested %s: %d samples, %d chunks, %s decoded, %s stored, fields %s%n", m.ref(),
        m.numSamples(), m.chunks().size(), Sizes.human(m.sizeBytes()), Sizes.human(m.storedBytes()),
        m.fields());
    return 0;
  }

  private IngestSource source() {
    if (source.npy != null) {
      return new NpyIngest(source.npy);
    }
    if (source.csv != null) {
      return new CsvIngest(source.csv, labelColumn);
    }
    if (source.images != null) {
      if (size == null) {
        throw new IllegalArgumentException("--images needs --size HxW, as in --size 32x32");
      }
      int[] hw = ImageFolderIngest.parseSize(size);
      return new ImageFolderIngest(source.images, hw[0], hw[1], keepSourceOrder, shuffleSeed);
    }
    return new IdxIngest(source.idx.get(0), source.idx.get(1));
  }
}
