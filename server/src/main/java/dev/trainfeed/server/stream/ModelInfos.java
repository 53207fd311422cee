package dev.trainfeed.server.stream;

import dev.trainfeed.proto.v1.DType;
import dev.trainfeed.proto.v1.FieldSpec;
import dev.trainfeed.proto.v1.ListModelsResponse;
import dev.trainfeed.proto.v1.ModelInfo;
import dev.trainfeed.server.synth.LoadedModel;
import dev.trainfeed.server.synth.ModelRegistry;

/** Wire descriptions of loaded models. */
final class ModelInfos {
  private ModelInfos() {}

  /** Every current model, by name. */
  static ListModelsResponse list(ModelRegistry models) {
    ListModelsResponse.Builder b = ListModelsResponse.newBuilder();
    for (LoadedModel m : models.list()) {
      b.addModels(toProto(m));
    }
    return b.build();
  }

  static ModelInfo toProto(LoadedModel m) {
    ModelInfo.Builder b = ModelInfo.newBuilder()
        .setName(m.name())
        .setKind(m.descriptor().kind().wireName())
        .setVersion(m.version())
        .setLatentDim(m.descriptor().latentDim())
        .setProvider(m.provider())
        .setConditional(m.descriptor().conditional());
    for (dev.trainfeed.server.store.FieldSpec f : m.outputs()) {
      FieldSpec.Builder fs = FieldSpec.newBuilder().setName(f.name())
          .setDtype(DType.forNumber(f.dtype().wireNumber()));
      for (long d : f.shape()) {
        fs.addShape(d);
      }
      b.addOutputs(fs);
    }
    return b.build();
  }
}
