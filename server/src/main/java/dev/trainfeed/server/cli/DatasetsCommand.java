package dev.trainfeed.server.cli;

import dev.trainfeed.server.config.Sizes;
import dev.trainfeed.server.store.DatasetManifest;
import dev.trainfeed.server.store.LocalChunkStore;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code trainfeed datasets}: lists the datasets in a data directory. */
@Command(name = "datasets", mixinStandardHelpOptions = true,
    description = "List datasets (current versions; --all for every version on disk).")
final class DatasetsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DataDirOptions dir;

  @Option(names = "--all", description = "Show every version, newest first.")
  boolean all;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    try (LocalChunkStore store = new LocalChunkStore(dir.dataDir())) {
      out.printf(Locale.ROOT, "%-24s %-18s %10s %7s %10s %10s  %s%n", "NAME", "VERSION", "SAMPLES",
          "CHUNKS", "SIZE", "STORED", "FIELDS");
      for (DatasetManifest current : store.list()) {
        for (DatasetManifest m : all ? store.versions(current.name()) : java.util.List.of(current)) {
          out.printf(Locale.ROOT, "%-24s %-18s %10d %7d %10s %10s  %s%s%n", m.name(), m.version(),
              m.numSamples(), m.chunks().size(), Sizes.human(m.sizeBytes()),
              Sizes.human(m.storedBytes()), m.fields(),
              all && m.version().equals(current.version()) ? " (current)" : "");
        }
      }
    }
    return 0;
  }
}
