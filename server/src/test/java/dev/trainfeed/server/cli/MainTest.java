package dev.trainfeed.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MainTest {

  @Test
  void helpListsTheServerCommandsAndTheClientsTheLauncherRuns() {
    StringWriter out = new StringWriter();
    int rc = Main.run(new String[] {"--help"}, Map.of(), new PrintWriter(out, true),
        new PrintWriter(new StringWriter(), true));
    assertThat(rc).isZero();
    assertThat(out.toString()).containsPattern("(?m)^  serve ").containsPattern("(?m)^  ingest ")
        .containsPattern("(?m)^  demo ").containsPattern("(?m)^  bench ");
  }
}
