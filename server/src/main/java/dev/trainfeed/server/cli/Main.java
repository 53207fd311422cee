package dev.trainfeed.server.cli;

import dev.trainfeed.server.config.ConfigDefaults;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code trainfeed} command line of the server side: serve, ingest, datasets, delete,
 * synth-eval. */
@Command(name = "trainfeed", mixinStandardHelpOptions = true, version = "TrainFeed 0.1.0",
    description = "A data plane for machine-learning training.",
    subcommands = {ServeCommand.class, IngestCommand.class, DatasetsCommand.class,
        DeleteCommand.class, SynthEvalCommand.class},
    // The launcher runs these two from the client module, so picocli here cannot list them.
    footer = {"", "Clients, run by the same ./trainfeed launcher:",
        "  demo        Ingest the bundled digits, serve them and train on them.",
        "  bench       Measure streaming throughput through the Java SDK."})
public final class Main implements Runnable {

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args, System.getenv()));
  }

  /** Runs the command line with an injected environment; returns the exit status. */
  public static int run(String[] args, Map<String, String> env) {
    return run(args, env, null, null);
  }

  /**
   * Runs the command line with an injected environment and, when not null, writers for what
   * picocli prints (usage, {@code --print-config}, errors); returns the exit status.
   */
  public static int run(String[] args, Map<String, String> env, PrintWriter out,
      PrintWriter err) {
    CommandLine cli = new CommandLine(new Main());
    if (out != null) {
      cli.setOut(out);
    }
    if (err != null) {
      cli.setErr(err);
    }
    cli.setDefaultValueProvider(new ConfigDefaults(env, configFile(args, env)));
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      // Errors a user can fix get one clear line, never a stack trace.
      cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    return cli.execute(args);
  }

  /** The config file from {@code --config FILE}, {@code --config=FILE} or TRAINFEED_CONFIG. */
  static Path configFile(String[] args, Map<String, String> env) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        return Path.of(args[i + 1]);
      }
      if (args[i].startsWith("--config=")) {
        return Path.of(args[i].substring("--config=".length()));
      }
    }
    String fromEnv = env.get("TRAINFEED_CONFIG");
    return fromEnv == null || fromEnv.isEmpty() ? null : Path.of(fromEnv);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
