package dev.trainfeed.server.synth;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Opens ONNX Runtime sessions on the execution provider {@code --device} asks for, tuned for
 * throughput (graph optimisation level ALL, {@code intraOpThreads} threads per session).
 *
 * <p>{@code auto} adds the CUDA provider only where its libraries resolve ({@link CudaLibraries})
 * and otherwise runs on CPU after ONE warning naming the first missing library; {@code cuda[:N]}
 * fails at construction when a library is missing and at {@link #open} when the provider does not
 * load (for example with the CPU-only ONNX Runtime jar: build with {@code -Pgpu}).
 */
public final class SessionFactory {
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final Device device;
  private final List<String> missing;
  private final int intraOpThreads;
  private final Consumer<String> warnings;
  private final AtomicBoolean warned = new AtomicBoolean();

  /** A session and the provider it actually runs on ({@code cpu} or {@code cuda:N}). */
  public record Opened(OrtSession session, String provider) {}

  /**
   * A factory.
   *
   * @param device what {@code --device} asks for
   * @param cuda which CUDA libraries resolve on this host
   * @param intraOpThreads threads per session, at least 1
   * @param warnings where the one fallback warning goes (the server log)
   * @throws IllegalStateException when {@code cuda[:N]} is asked for and a library is missing
   */
  public SessionFactory(Device device, CudaLibraries cuda, int intraOpThreads,
      Consumer<String> warnings) {
    if (intraOpThreads < 1) {
      throw new IllegalArgumentException("intra-op threads must be at least 1, got "
          + intraOpThreads);
    }
    this.device = device;
    this.missing = device.mode() == Device.Mode.CPU ? List.of() : cuda.missing();
    this.intraOpThreads = intraOpThreads;
    this.warnings = warnings;
    if (device.mode() == Device.Mode.CUDA && !missing.isEmpty()) {
      throw new IllegalStateException("--device " + device + " needs CUDA 12 and cuDNN 9, but "
          + String.join(", ", missing) + " cannot be found (LD_LIBRARY_PATH, ldconfig); install "
          + "them, or start with --device auto or --device cpu");
    }
  }

  /** The ONNX Runtime environment sessions belong to. */
  public OrtEnvironment environment() {
    return env;
  }

  /** What {@code --device} asked for. */
  public Device device() {
    return device;
  }

  /**
   * Opens a session for an ONNX model.
   *
   * @throws OrtException the model does not load
   * @throws IllegalStateException {@code cuda[:N]} was asked for and the CUDA provider does not load
   */
  public Opened open(byte[] model) throws OrtException {
    if (device.mode() == Device.Mode.CPU) {
      return new Opened(create(model, false), "cpu");
    }
    if (!missing.isEmpty()) {
      warnOnce("CUDA libraries not found (" + missing.get(0) + " missing"
          + (missing.size() > 1 ? ", and " + (missing.size() - 1) + " more" : "")
          + "); running models on CPU. Install CUDA 12 and cuDNN 9 and build with -Pgpu to use "
          + "the GPU, or pass --device cpu to silence this warning");
      return new Opened(create(model, false), "cpu");
    }
    try {
      return new Opened(create(model, true), "cuda:" + device.gpu());
    } catch (OrtException e) {
      if (device.mode() == Device.Mode.CUDA) {
        throw new IllegalStateException("--device " + device + ": the CUDA execution provider "
            + "did not load (" + e.getMessage() + "); build the server with -Pgpu "
            + "(onnxruntime_gpu) or use --device auto or cpu", e);
      }
      warnOnce("the CUDA execution provider did not load (" + e.getMessage() + "); running "
          + "models on CPU");
      return new Opened(create(model, false), "cpu");
    }
  }

  private OrtSession create(byte[] model, boolean cuda) throws OrtException {
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      o.setIntraOpNumThreads(intraOpThreads);
      o.setInterOpNumThreads(1);
      if (cuda) {
        o.addCUDA(device.gpu());
      }
      return env.createSession(model, o);
    }
  }

  private void warnOnce(String message) {
    if (warned.compareAndSet(false, true)) {
      warnings.accept(message);
    }
  }
}
