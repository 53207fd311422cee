package dev.trainfeed.server.synth;

import java.util.Locale;

/**
 * The {@code --device} choice: {@code auto} (CUDA where its libraries resolve, else CPU, with one
 * warning), {@code cpu}, or {@code cuda[:N]} (CUDA on GPU N, default 0; the server refuses to
 * start when CUDA cannot be used).
 *
 * @param mode what was asked for
 * @param gpu the GPU index for {@code cuda[:N]} (0 otherwise)
 */
public record Device(Mode mode, int gpu) {

  /** What {@code --device} asks for. */
  public enum Mode {
    /** CUDA if it loads, CPU otherwise. */
    AUTO,
    /** CPU only. */
    CPU,
    /** CUDA only; failing that is a startup error. */
    CUDA
  }

  /** {@code auto}, the default. */
  public static final Device AUTO = new Device(Mode.AUTO, 0);
  /** {@code cpu}, what tests use. */
  public static final Device CPU = new Device(Mode.CPU, 0);

  /** Validates the GPU index. */
  public Device {
    if (gpu < 0) {
      throw new IllegalArgumentException("--device cuda:N needs N >= 0, got " + gpu);
    }
  }

  /**
   * Parses {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}.
   *
   * @throws IllegalArgumentException for anything else, saying what is accepted
   */
  public static Device parse(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    if (v.equals("auto")) {
      return AUTO;
    }
    if (v.equals("cpu")) {
      return CPU;
    }
    if (v.equals("cuda")) {
      return new Device(Mode.CUDA, 0);
    }
    if (v.startsWith("cuda:")) {
      try {
        return new Device(Mode.CUDA, Integer.parseInt(v.substring(5)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--device '" + s + "': the GPU index must be a number, "
            + "as in cuda:0");
      }
    }
    throw new IllegalArgumentException("--device must be auto, cpu, cuda or cuda:N, got '" + s
        + "'");
  }

  @Override
  public String toString() {
    return mode == Mode.CUDA ? "cuda:" + gpu : mode.name().toLowerCase(Locale.ROOT);
  }
}
