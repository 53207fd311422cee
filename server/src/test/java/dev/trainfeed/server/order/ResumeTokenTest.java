package dev.trainfeed.server.order;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeTokenTest {
  @TempDir Path dir;

  private static final StreamSettings SETTINGS = new StreamSettings("digits", "0123456789abcdef",
      true, 42, 3, 16, 1, 4, 32, false, "", "", 0.0, "");

  private static byte[] key(int b) {
    byte[] k = new byte[32];
    java.util.Arrays.fill(k, (byte) b);
    return k;
  }

  @Test
  void roundTrip() throws Exception {
    ResumeTokenCodec codec = new ResumeTokenCodec(ResumeKeyring.of(List.of(key(1))));
    byte[] token = SETTINGS.token(codec, 17);
    StreamSettings.Position p = StreamSettings.parseToken(codec, token);
    assertThat(p.settings()).isEqualTo(SETTINGS);
    assertThat(p.nextBatch()).isEqualTo(17);
    assertThat(p.settings().firstDifference(SETTINGS)).isEmpty();
  }

  @Test
  void everyTamperedByteIsRefused() {
    ResumeTokenCodec codec = new ResumeTokenCodec(ResumeKeyring.of(List.of(key(1))));
    byte[] token = SETTINGS.token(codec, 5);
    for (int i = 0; i < token.length; i++) {
      byte[] t = token.clone();
      t[i] ^= 0x01;
      assertThatThrownBy(() -> StreamSettings.parseToken(codec, t))
          .isInstanceOf(InvalidResumeTokenException.class);
    }
    assertThatThrownBy(() -> StreamSettings.parseToken(codec, new byte[3]))
        .hasMessageContaining("malformed");
    assertThatThrownBy(() -> StreamSettings.parseToken(codec, new byte[5000]))
        .hasMessageContaining("malformed");
  }

  @Test
  void otherKeyIsRefusedAndRotationAccepted() throws Exception {
    ResumeTokenCodec old = new ResumeTokenCodec(ResumeKeyring.of(List.of(key(1))));
    ResumeTokenCodec other = new ResumeTokenCodec(ResumeKeyring.of(List.of(key(2))));
    ResumeTokenCodec rotated = new ResumeTokenCodec(ResumeKeyring.of(List.of(key(2), key(1))));
    byte[] token = SETTINGS.token(old, 5);
    assertThatThrownBy(() -> StreamSettings.parseToken(other, token))
        .hasMessageContaining("--resume-key-file");
    assertThat(StreamSettings.parseToken(rotated, token).nextBatch()).isEqualTo(5);
  }

  @Test
  void differencesAreNamedByWireField() {
    StreamSettings s = SETTINGS;
    assertThat(s.firstDifference(new StreamSettings("digits", "0123456789abcdef", true, 43, 3, 16,
        1, 4, 32, false, "", "", 0.0, ""))).contains("seed");
    assertThat(s.firstDifference(new StreamSettings("digits", "0123456789abcdef", true, 42, 3, 16,
        1, 4, 64, false, "", "", 0.0, ""))).contains("batch_size");
    assertThat(s.firstDifference(new StreamSettings("digits", "0123456789abcdef", true, 42, 3, 16,
        0, 4, 32, false, "", "", 0.0, ""))).contains("rank");
  }

  @Test
  void keyFileIsCreatedPrivateAndReused() throws Exception {
    Path file = dir.resolve("resume.key");
    ResumeKeyring a = ResumeKeyring.loadOrCreate(file);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    ResumeKeyring b = ResumeKeyring.loadOrCreate(file);
    byte[] token = SETTINGS.token(new ResumeTokenCodec(a), 1);
    assertThat(StreamSettings.parseToken(new ResumeTokenCodec(b), token).nextBatch()).isEqualTo(1);
  }

  @Test
  void keyFileIsPublishedByMoveWhereTheFileSystemHasNoHardLinks() throws Exception {
    // Jimfs without Feature.LINKS: Files.createLink throws UnsupportedOperationException.
    try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix().toBuilder()
        .setSupportedFeatures().setAttributeViews("basic", "owner", "posix").build())) {
      Path file = fs.getPath("/keys/resume.key");
      assertThatThrownBy(() -> Files.createLink(fs.getPath("/probe"), fs.getPath("/")))
          .isInstanceOf(UnsupportedOperationException.class);
      ResumeKeyring a = ResumeKeyring.loadOrCreate(file);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
      assertThat(Files.readString(file).strip()).matches("[0-9a-f]{64}");
      try (var left = Files.list(file.getParent())) {
        assertThat(left).containsExactly(file); // no temporary file left behind
      }
      ResumeKeyring b = ResumeKeyring.loadOrCreate(file);
      byte[] token = SETTINGS.token(new ResumeTokenCodec(a), 1);
      assertThat(StreamSettings.parseToken(new ResumeTokenCodec(b), token).nextBatch())
          .isEqualTo(1);
    }
  }

  @Test
  void malformedKeyFileSaysWhichLine() throws Exception {
    Path file = dir.resolve("bad.key");
    Files.writeString(file, "# comment\nzz-not-hex\n");
    assertThatThrownBy(() -> ResumeKeyring.loadOrCreate(file)).hasMessageContaining("line 2");
  }
}
