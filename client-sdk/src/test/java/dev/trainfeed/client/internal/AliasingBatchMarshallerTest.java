package dev.trainfeed.client.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.trainfeed.proto.v1.Batch;
import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.Tensor;
import io.grpc.KnownLength;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The SDK's Batch parser gives the generated parser's result, with tensor data aliased. */
class AliasingBatchMarshallerTest {

  private static Batch batch(int samples, int bytesPerSample) {
    SplittableRandom random = new SplittableRandom(samples);
    byte[] image = new byte[samples * bytesPerSample];
    random.nextBytes(image);
    Batch.Builder b = Batch.newBuilder().setIndex(3).setEpoch(1)
        .setResumeToken(ByteString.copyFromUtf8("token"))
        .addTensors(Tensor.newBuilder().setName("image").setDtype(DType.DTYPE_UINT8)
            .addShape(samples).addShape(bytesPerSample).setData(ByteString.copyFrom(image)))
        .addTensors(Tensor.newBuilder().setName("label").setDtype(DType.DTYPE_INT64)
            .addShape(samples).setData(ByteString.copyFrom(new byte[8 * samples])));
    for (int i = 0; i < samples; i++) {
      b.addSampleIds(random.nextLong(1 << 20)).addPadding(i == samples - 1);
    }
    return b.build();
  }

  /** A stream that knows its length, as gRPC's receive streams do. */
  private static final class Known extends ByteArrayInputStream implements KnownLength {
    Known(byte[] b) {
      super(b);
    }
  }

  @Test
  void parsesWhatTheGeneratedParserParses() {
    for (int samples : new int[] {1, 64, 1024}) {
      Batch b = batch(samples, 3072);
      Batch parsed = AliasingBatchMarshaller.INSTANCE.parse(new Known(b.toByteArray()));
      assertThat(parsed).isEqualTo(b);
      Batch unknownLength = AliasingBatchMarshaller.INSTANCE.parse(
          new java.io.BufferedInputStream(new ByteArrayInputStream(b.toByteArray())));
      assertThat(unknownLength).isEqualTo(b);
    }
  }

  @Test
  void tensorDataAliasTheReceivedMessage() {
    Batch parsed = AliasingBatchMarshaller.INSTANCE.parse(new Known(batch(16, 100).toByteArray()));
    // An aliased field is a window on the message array (BoundedByteString); a copied one owns
    // an array of its own (LiteralByteString).
    assertThat(parsed.getTensors(0).getData().getClass().getSimpleName())
        .isEqualTo("BoundedByteString");
  }

  @Test
  void streamDelegatesToTheGeneratedEncoding() throws Exception {
    Batch b = batch(8, 10);
    try (InputStream in = AliasingBatchMarshaller.INSTANCE.stream(b)) {
      assertThat(in.readAllBytes()).isEqualTo(b.toByteArray());
    }
  }

  @Test
  void truncatedMessageIsAnInternalError() {
    byte[] full = batch(8, 10).toByteArray();
    byte[] cut = java.util.Arrays.copyOf(full, full.length - 5);
    assertThatThrownBy(() -> AliasingBatchMarshaller.INSTANCE.parse(new Known(cut)))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("INTERNAL");
  }
}
