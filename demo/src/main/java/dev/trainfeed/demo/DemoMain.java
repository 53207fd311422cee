package dev.trainfeed.demo;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the client-side commands: {@code trainfeed demo}. */
@Command(name = "trainfeed", mixinStandardHelpOptions = true, version = "TrainFeed 0.1.0",
    subcommands = {DemoCommand.class})
public final class DemoMain implements Runnable {

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new DemoMain());
    cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
      cmd.getErr().println("error: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      return 1;
    });
    System.exit(cli.execute(args));
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
