package dev.trainfeed.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ValueTypesTest {

  @Test
  void resumeTokenRoundTripsThroughBytesAndBase64Url() {
    byte[] raw = {(byte) 0xfb, (byte) 0xff, 0x00, 0x3e};
    ResumeToken token = ResumeToken.fromBytes(raw);
    raw[0] = 0;
    assertThat(token.toBytes()).containsExactly(0xfb, 0xff, 0x00, 0x3e);
    assertThat(token.toString()).isEqualTo("-_8APg");
    assertThat(ResumeToken.parse("-_8APg")).isEqualTo(token).hasSameHashCodeAs(token);
    assertThat(ResumeToken.parse("-_8APg==")).isEqualTo(token);
    assertThat(token.epoch()).isEmpty();
    assertThat(token.withEpoch(7).epoch()).hasValue(7);
    assertThat(token.withEpoch(7)).isEqualTo(token);
    // The text form keeps a known epoch, so a checkpoint needs nothing else to resume.
    assertThat(token.withEpoch(7).toString()).isEqualTo("7.-_8APg");
    assertThat(ResumeToken.parse("7.-_8APg").epoch()).hasValue(7);
    assertThat(ResumeToken.parse("7.-_8APg")).isEqualTo(token);
    assertThat(ResumeToken.fromBytes(new byte[] {1})).isNotEqualTo(token);
  }

  @Test
  void resumeTokenRejectsEmptyAndMalformed() {
    assertThatThrownBy(() -> ResumeToken.fromBytes(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("never empty");
    assertThatThrownBy(() -> ResumeToken.parse("x.-_8APg"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("EPOCH.BASE64");
    assertThatThrownBy(() -> ResumeToken.parse("not base64!"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("URL-safe base64");
    assertThatThrownBy(() -> ResumeToken.fromBytes(new byte[] {1}).withEpoch(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void batchFlagsAndTensorLookup() {
    Tensor x = new Tensor("x", DType.UINT8, new long[] {2}, ByteBuffer.wrap(new byte[] {1, 2}));
    ResumeToken token = ResumeToken.fromBytes(new byte[] {9});
    Batch plain = new Batch(0, 0, new long[] {4, 5}, List.of(x), new boolean[0], new boolean[0],
        token);
    assertThat(plain.synthetic()).isEmpty();
    assertThat(plain.isSynthetic(1)).isFalse();
    assertThat(plain.isPadding(0)).isFalse();
    assertThat(plain.tensor("x")).isSameAs(x);
    assertThatThrownBy(() -> plain.tensor("y")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batch has no field 'y'; it has [x]");
    assertThatThrownBy(() -> plain.isPadding(2)).isInstanceOf(IndexOutOfBoundsException.class);

    Batch mixed = new Batch(1, 0, new long[] {4, 10}, List.of(x), new boolean[] {false, true},
        new boolean[] {true, false}, token);
    assertThat(mixed.isSynthetic(1)).isTrue();
    assertThat(mixed.isPadding(0)).isTrue();
    assertThat(mixed.synthetic()).containsExactly(false, true);
    assertThatThrownBy(() -> new Batch(0, 0, new long[] {1, 2}, List.of(), new boolean[] {true},
        new boolean[0], token)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("synthetic has 1 flags for 2 samples");
  }
}
