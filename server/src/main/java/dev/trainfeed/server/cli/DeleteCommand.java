package dev.trainfeed.server.cli;

import dev.trainfeed.server.store.DatasetNames;
import dev.trainfeed.server.store.LocalChunkStore;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code trainfeed delete}: removes a dataset or one of its older versions. */
@Command(name = "delete", mixinStandardHelpOptions = true,
    description = "Delete NAME (every version) or NAME@VERSION (an older version).")
final class DeleteCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Mixin DataDirOptions dir;

  @Parameters(paramLabel = "NAME[@VERSION]", description = "What to delete.")
  String ref;

  @Override
  public Integer call() throws Exception {
    String[] parts = DatasetNames.parseRef(ref);
    try (LocalChunkStore store = new LocalChunkStore(dir.dataDir())) {
      store.delete(parts[0], parts[1]);
    }
    spec.commandLine().getOut().println("deleted " + ref);
    return 0;
  }
}
