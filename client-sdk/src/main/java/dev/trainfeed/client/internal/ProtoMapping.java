package dev.trainfeed.client.internal;

import com.google.protobuf.ByteString;
import dev.trainfeed.client.Batch;
import dev.trainfeed.client.DType;
import dev.trainfeed.client.DatasetInfo;
import dev.trainfeed.client.FieldInfo;
import dev.trainfeed.client.ModelInfo;
import dev.trainfeed.client.ResumeToken;
import dev.trainfeed.client.Tensor;
import dev.trainfeed.client.TrainFeedException;
import dev.trainfeed.proto.v1.FieldSpec;
import dev.trainfeed.proto.v1.StreamBatchesRequest;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;

/** Conversion between the generated wire types and the SDK's public value types. */
public final class ProtoMapping {
  private ProtoMapping() {}

  /** Returns the request for one epoch of {@code params}, starting at {@code resumeToken} (may be empty). */
  public static StreamBatchesRequest request(StreamParams params, long epoch, ByteString resumeToken) {
    StreamBatchesRequest.Builder b = StreamBatchesRequest.newBuilder();
    if (params.augmentation() != null) {
      b.setAugment(AugmentMapping.toProto(params.augmentation()));
    }
    return b
        .setDataset(params.dataset())
        .setBatchSize(params.batchSize())
        .setShuffle(params.shuffle())
        .setSeed(params.seed())
        .setEpoch(epoch)
        .setRank(params.rank())
        .setWorldSize(params.worldSize())
        .setDropLast(params.dropLast())
        .addAllFields(params.fields())
        .setShuffleWindow(params.shuffleWindow())
        .setResumeToken(resumeToken)
        .setSynthetic(dev.trainfeed.proto.v1.SyntheticMix.newBuilder()
            .setModel(params.syntheticModel()).setFraction(params.syntheticFraction()))
        .build();
  }

  /** Returns the Synthesize request for {@code params}, starting at {@code resumeToken}. */
  public static dev.trainfeed.proto.v1.SynthesizeRequest request(SynthesizeParams params,
      ByteString resumeToken) {
    dev.trainfeed.proto.v1.SynthesizeRequest.Builder b =
        dev.trainfeed.proto.v1.SynthesizeRequest.newBuilder()
            .setModel(params.model())
            .setCount(params.count())
            .setBatchSize(params.batchSize())
            .setSeed(params.seed())
            .setResumeToken(resumeToken);
    if (params.classLabel() != null) {
      b.setClassLabel(params.classLabel());
    }
    return b.build();
  }

  /** Returns the SDK view of a model description. */
  public static ModelInfo modelInfo(dev.trainfeed.proto.v1.ModelInfo m) {
    List<FieldInfo> outputs = new ArrayList<>(m.getOutputsCount());
    for (FieldSpec f : m.getOutputsList()) {
      outputs.add(new FieldInfo(f.getName(), dtype(f.getDtype(), "output '" + f.getName() + "'"),
          toLongs(f.getShapeList())));
    }
    return new ModelInfo(m.getName(), m.getKind(), m.getVersion(), outputs, m.getLatentDim(),
        m.getProvider(), m.getConditional());
  }

  /**
   * Returns the SDK view of a received batch; tensor bytes are wrapped, not copied.
   *
   * @throws TrainFeedException with INTERNAL if the batch breaks the wire contract
   */
  public static Batch batch(dev.trainfeed.proto.v1.Batch b) {
    try {
      if (b.getResumeToken().isEmpty()) {
        throw new IllegalArgumentException("batch " + b.getIndex() + " has no resume_token");
      }
      List<Tensor> tensors = new ArrayList<>(b.getTensorsCount());
      for (dev.trainfeed.proto.v1.Tensor t : b.getTensorsList()) {
        tensors.add(new Tensor(t.getName(), dtype(t.getDtype(), "tensor '" + t.getName() + "'"),
            toLongs(t.getShapeList()), t.getData().asReadOnlyByteBuffer()));
      }
      long[] ids = new long[b.getSampleIdsCount()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = b.getSampleIds(i);
      }
      return new Batch(b.getIndex(), b.getEpoch(), ids, tensors, toBooleans(b.getSyntheticList()),
          toBooleans(b.getPaddingList()),
          ResumeToken.fromBytes(b.getResumeToken().toByteArray()).withEpoch(b.getEpoch()));
    } catch (IllegalArgumentException e) {
      throw new TrainFeedException(TrainFeedException.Code.INTERNAL,
          "the server sent a malformed batch: " + e.getMessage(), e);
    }
  }

  /** Returns the SDK view of a dataset description. */
  public static DatasetInfo datasetInfo(dev.trainfeed.proto.v1.DatasetInfo d) {
    List<FieldInfo> fields = new ArrayList<>(d.getFieldsCount());
    for (FieldSpec f : d.getFieldsList()) {
      fields.add(new FieldInfo(f.getName(), dtype(f.getDtype(), "field '" + f.getName() + "'"),
          toLongs(f.getShapeList())));
    }
    return new DatasetInfo(d.getName(), d.getVersion(), d.getNumSamples(), fields,
        d.getNumChunks(), d.getSizeBytes(), d.getStoredBytes());
  }

  /** Returns the SDK dtype; {@code where} names the tensor or field for the error message. */
  static DType dtype(dev.trainfeed.proto.v1.DType dtype, String where) {
    return switch (dtype) {
      case DTYPE_UINT8 -> DType.UINT8;
      case DTYPE_INT8 -> DType.INT8;
      case DTYPE_INT32 -> DType.INT32;
      case DTYPE_INT64 -> DType.INT64;
      case DTYPE_FLOAT16 -> DType.FLOAT16;
      case DTYPE_BFLOAT16 -> DType.BFLOAT16;
      case DTYPE_FLOAT32 -> DType.FLOAT32;
      case DTYPE_FLOAT64 -> DType.FLOAT64;
      default -> throw new IllegalArgumentException(where + " has dtype " + dtype
          + ", which this SDK does not know; upgrade the SDK");
    };
  }

  /**
   * Returns the public exception for a failed call's status; {@code note} (may be empty) is
   * appended to the server's message.
   */
  public static TrainFeedException exception(Status status, String note) {
    String message = status.getDescription() == null ? "" : status.getDescription();
    if (status.getCode() == Status.Code.RESOURCE_EXHAUSTED
        && message.contains("exceeds maximum size")) {
      note = note + " (raise TrainFeedClient.Builder.maxInboundMessageBytes to the server's"
          + " --max-batch-bytes plus headroom)";
    }
    String full = (message + note).strip();
    return new TrainFeedException(TrainFeedException.Code.valueOf(status.getCode().name()), full,
        status.getCause());
  }

  private static long[] toLongs(List<Long> values) {
    long[] out = new long[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }

  private static boolean[] toBooleans(List<Boolean> values) {
    boolean[] out = new boolean[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
