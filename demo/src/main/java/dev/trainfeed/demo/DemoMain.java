package dev.trainfeed.demo;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the client-side commands: {@code trainfeed demo} and {@code trainfeed bench}. */
@Command(name = "trainfeed", mixinStandardHelpOptions = true, version = "TrainFeed 0.1.0",
    subcommands = {DemoCommand.class, BenchCommand.class})
public final class DemoMain implements Runnable {

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * Runs the command line with {@code out} and {@code err} as its streams (bench prints its JSON
   * line to {@code out}) and returns the exit status.
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cli = new CommandLine(new DemoMain());
    cli.setOut(out);
    cli.setErr(err);
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    return cli.execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
