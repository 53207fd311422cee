package dev.trainfeed.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthTokensTest {
  @TempDir Path tmp;

  @Test
  void parsesTokensDatasetListsAndComments() {
    AuthTokens t = AuthTokens.parse(List.of("# comment", "", "alpha", "  beta\tmnist,cifar10 # x",
        "gamma#trailing"), "tokens.txt");
    assertThat(t.size()).isEqualTo(3);
    assertThat(t.lookup("alpha")).get().extracting(DatasetAccess::datasets).isNull();
    DatasetAccess beta = t.lookup("beta").orElseThrow();
    assertThat(beta.allows("mnist")).isTrue();
    assertThat(beta.allows("cifar10")).isTrue();
    assertThat(beta.allows("imagenet")).isFalse();
    assertThat(beta.principal()).isEqualTo("token on line 4 of tokens.txt");
    assertThat(t.lookup("gamma")).isPresent();
    assertThat(t.lookup("delta")).isEmpty();
    assertThat(t.lookup("Alpha")).isEmpty();
    assertThat(t.lookup(null)).isEmpty();
  }

  @Test
  void malformedLinesNameTheLineButNotTheToken() {
    assertThatThrownBy(() -> AuthTokens.parse(List.of("ok", "s3cret a b"), "t"))
        .hasMessageContaining("line 2 of t").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> AuthTokens.parse(List.of("s3cret ../etc"), "t"))
        .hasMessageContaining("line 1 of t").hasMessageNotContaining("s3cret");
    assertThatThrownBy(() -> AuthTokens.parse(List.of("s3cret mnist,"), "t"))
        .hasMessageContaining("line 1 of t");
    assertThatThrownBy(() -> AuthTokens.parse(List.of("s3cret", "s3cret mnist"), "t"))
        .hasMessageContaining("line 2 of t").hasMessageContaining("repeats")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void tokenFileReloadsChangedContentAndKeepsTheOldTokensOnABadEdit() throws Exception {
    Path f = tmp.resolve("tokens");
    Files.writeString(f, "one\n");
    TokenFile file = new TokenFile(f);
    assertThat(file.reloadIfChanged()).isFalse();
    Files.writeString(f, "one\ntwo mnist\n");
    assertThat(file.reloadIfChanged()).isTrue();
    assertThat(file.tokens().lookup("two")).isPresent();
    Files.writeString(f, "one\ntwo bad/name\n");
    assertThat(file.reloadIfChanged()).isFalse();
    assertThat(file.tokens().lookup("two").orElseThrow().allows("mnist")).isTrue();
    Files.delete(f);
    assertThat(file.reloadIfChanged()).isFalse();
    assertThat(file.tokens().size()).isEqualTo(2);
    file.close();
  }

  @Test
  void aBadTokenFileStopsTheStart() throws Exception {
    Path f = tmp.resolve("tokens");
    Files.writeString(f, "x y z\n");
    assertThatThrownBy(() -> new TokenFile(f)).hasMessageContaining("line 1");
    assertThatThrownBy(() -> new TokenFile(tmp.resolve("missing")))
        .isInstanceOf(java.io.IOException.class);
  }

  @Test
  void optionsNameTheFlagToChange() {
    SecurityOptions d = SecurityOptions.DEFAULTS;
    assertThatThrownBy(() -> d.withTls(tmp.resolve("c"), null, null))
        .hasMessageContaining("--tls-key");
    assertThatThrownBy(() -> d.withTls(null, null, tmp.resolve("ca")))
        .hasMessageContaining("--tls-client-ca");
    assertThatThrownBy(() -> new SecurityOptions(null, null, null, null, Duration.ofSeconds(5), 0,
        Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), false, Duration.ofSeconds(1),
        Duration.ofSeconds(1), 0, Duration.ofSeconds(1)))
        .hasMessageContaining("--max-streams-per-connection");
    assertThatThrownBy(() -> new SecurityOptions(null, null, null, null, Duration.ofSeconds(5), 1,
        Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), false, Duration.ofSeconds(1),
        Duration.ofSeconds(1), 10, Duration.ofMillis(1500)))
        .hasMessageContaining("--rst-window");
    assertThat(d.tls()).isFalse();
  }
}
