package dev.trainfeed.server.synth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trainfeed.server.store.DType;
import dev.trainfeed.server.store.FieldSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What {@code models/NAME/descriptor.yaml} says about a model: its kind, latent size, the ONNX
 * graphs and their tensor names, the dataset field its output becomes and how values map onto
 * that field, and optional class conditioning. The format is documented in
 * {@code docs/4-synthesis.md}; {@link #parse} rejects anything it does not know, with a message
 * naming the key.
 *
 * @param kind gan, vae or ae
 * @param latentDim components of one latent vector, at least 1
 * @param generator the graph that maps latents to samples (GAN generator, VAE/AE decoder)
 * @param encoder the graph that maps samples to latents; null for a GAN
 * @param field the dataset field the generator's output becomes
 * @param conditioning class conditioning; null for an unconditional model
 */
public record ModelDescriptor(
    Kind kind,
    int latentDim,
    Generator generator,
    Encoder encoder,
    OutputField field,
    Conditioning conditioning) {

  /** Largest latent size accepted; far above any real generator, it bounds allocation. */
  public static final int MAX_LATENT_DIM = 1 << 16;

  /** Model kinds of the wire contract. */
  public enum Kind {
    /** A generator sampled from its latent prior. */
    GAN,
    /** A variational autoencoder: decoder sampled from N(0, I), encoder for augmentation. */
    VAE,
    /** A plain autoencoder: no prior to sample from, so it only augments. */
    AE;

    /** The lower-case name used on the wire and in descriptors. */
    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The generator (or decoder) graph.
   *
   * @param file ONNX file name inside the model folder
   * @param latentInput name of the float32 [B, latent_dim] input
   * @param classInput name of the int64 [B] class input; null when unconditional
   * @param output name of the float32 output of B samples
   */
  public record Generator(String file, String latentInput, String classInput, String output) {}

  /**
   * The encoder graph of a VAE or AE.
   *
   * @param file ONNX file name inside the model folder
   * @param input name of the float32 sample input (values in the model range)
   * @param noiseInput name of the float32 [B, latent_dim] reparameterisation noise input (VAE);
   *     null for an AE
   * @param meanOutput name of the [B, latent_dim] mean (VAE) or code (AE) output
   * @param logvarOutput name of the log-variance output (VAE); null for an AE
   * @param latentOutput name of the output {@code mean + exp(logvar/2)·noise} (VAE); null for an AE
   */
  public record Encoder(String file, String input, String noiseInput, String meanOutput,
      String logvarOutput, String latentOutput) {}

  /**
   * How the generator's output becomes a dataset field: value {@code v} in
   * {@code [modelLow, modelHigh]} maps linearly onto {@code [fieldLow, fieldHigh]}; integer
   * dtypes then round half up ({@code floor(x + 0.5)}) and clamp to the field range.
   *
   * @param name field name, such as {@code image}
   * @param dtype field dtype (uint8, int8, int32, int64, float32 or float64)
   * @param shape shape of one sample
   * @param modelLow low end of the model's output range
   * @param modelHigh high end of the model's output range
   * @param fieldLow low end of the field's value range
   * @param fieldHigh high end of the field's value range
   */
  public record OutputField(String name, DType dtype, long[] shape, double modelLow,
      double modelHigh, double fieldLow, double fieldHigh) {

    /** The field as a dataset would declare it. */
    public FieldSpec spec() {
      return new FieldSpec(name, dtype, shape);
    }

    /** Elements of one sample. */
    public int elements() {
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      return Math.toIntExact(n);
    }
  }

  /**
   * Class conditioning.
   *
   * @param numClasses classes 0 … numClasses − 1
   * @param field the int64 scalar dataset field the class becomes, such as {@code label}
   */
  public record Conditioning(int numClasses, String field) {

    /** The field as a dataset would declare it: int64, scalar. */
    public FieldSpec spec() {
      return new FieldSpec(field, DType.INT64);
    }
  }

  /** Whether the model takes a class. */
  public boolean conditional() {
    return conditioning != null;
  }

  /** The fields one synthetic sample has: the output field, then the class field if any. */
  public List<FieldSpec> outputs() {
    List<FieldSpec> out = new ArrayList<>();
    out.add(field.spec());
    if (conditioning != null) {
      out.add(conditioning.spec());
    }
    return out;
  }

  /** The ONNX files the model folder must hold, generator first. */
  public List<String> files() {
    return encoder == null ? List.of(generator.file()) : List.of(generator.file(), encoder.file());
  }

  private static final Set<DType> FIELD_DTYPES = Set.of(DType.UINT8, DType.INT8, DType.INT32,
      DType.INT64, DType.FLOAT32, DType.FLOAT64);

  /**
   * Parses a descriptor.
   *
   * @throws IllegalArgumentException naming the key that is missing, unknown or out of range
   */
  public static ModelDescriptor parse(byte[] yaml, Path source) {
    JsonNode root;
    try {
      root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + ": not valid YAML (" + e.getMessage()
          + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(source + ": expected a YAML mapping");
    }
    Reader r = new Reader(source);
    r.only(root, "", "kind", "latent_dim", "generator", "encoder", "field", "conditioning");
    Kind kind;
    String k = r.text(root, "kind");
    try {
      kind = Kind.valueOf(k.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw r.bad("kind", "must be gan, vae or ae, got '" + k + "'");
    }
    int latent = r.intIn(root, "latent_dim", 1, MAX_LATENT_DIM);

    JsonNode g = r.object(root, "generator");
    r.only(g, "generator.", "file", "latent_input", "class_input", "output");
    Generator generator = new Generator(r.text(g, "generator.file"),
        r.text(g, "generator.latent_input"), r.optText(g, "generator.class_input"),
        r.text(g, "generator.output"));

    Encoder encoder = null;
    if (root.has("encoder")) {
      JsonNode e = r.object(root, "encoder");
      r.only(e, "encoder.", "file", "input", "noise_input", "mean_output", "logvar_output",
          "latent_output");
      encoder = new Encoder(r.text(e, "encoder.file"), r.text(e, "encoder.input"),
          r.optText(e, "encoder.noise_input"), r.text(e, "encoder.mean_output"),
          r.optText(e, "encoder.logvar_output"), r.optText(e, "encoder.latent_output"));
      boolean variational = encoder.noiseInput() != null;
      if (variational != (kind == Kind.VAE) || variational != (encoder.logvarOutput() != null)
          || variational != (encoder.latentOutput() != null)) {
        throw r.bad("encoder", "noise_input, logvar_output and latent_output are required for "
            + "kind vae and not allowed for kind ae");
      }
    }
    if (kind == Kind.GAN && encoder != null) {
      throw r.bad("encoder", "a gan has no encoder; use kind vae or ae");
    }
    if (kind != Kind.GAN && encoder == null) {
      throw r.bad("encoder", "kind " + kind.wireName() + " needs an encoder section");
    }

    JsonNode f = r.object(root, "field");
    r.only(f, "field.", "name", "dtype", "shape", "model_range", "field_range");
    DType dtype;
    try {
      dtype = DType.fromManifestName(r.text(f, "field.dtype"));
    } catch (IllegalArgumentException e) {
      throw r.bad("field.dtype", e.getMessage());
    }
    if (!FIELD_DTYPES.contains(dtype)) {
      throw r.bad("field.dtype", "must be uint8, int8, int32, int64, float32 or float64");
    }
    JsonNode shapeNode = f.get("shape");
    if (shapeNode == null || !shapeNode.isArray()) {
      throw r.bad("field.shape", "must be a list of dimensions such as [8, 8]");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 1) {
        throw r.bad("field.shape", "dimensions must be positive integers");
      }
      shape[i] = shapeNode.get(i).asLong();
    }
    double[] mr = r.range(f, "field.model_range");
    double[] fr = r.range(f, "field.field_range");
    OutputField field = new OutputField(r.text(f, "field.name"), dtype, shape, mr[0], mr[1],
        fr[0], fr[1]);
    if ((long) field.elements() * latent > Integer.MAX_VALUE / 64) {
      throw r.bad("field.shape", "a sample of " + field.elements() + " elements is too large");
    }

    Conditioning cond = null;
    if (root.has("conditioning")) {
      JsonNode c = r.object(root, "conditioning");
      r.only(c, "conditioning.", "num_classes", "field");
      cond = new Conditioning(r.intIn(c, "conditioning.num_classes", 1, 1 << 20),
          r.text(c, "conditioning.field"));
      if (cond.field().equals(field.name())) {
        throw r.bad("conditioning.field", "must differ from field.name");
      }
    }
    if ((cond != null) != (generator.classInput() != null)) {
      throw r.bad("generator.class_input", "a conditioning section and generator.class_input "
          + "go together");
    }
    return new ModelDescriptor(kind, latent, generator, encoder, field, cond);
  }

  /** Reads keys with messages that name the file and the key. */
  private record Reader(Path source) {
    IllegalArgumentException bad(String key, String message) {
      return new IllegalArgumentException(source + ": " + key + " " + message);
    }

    void only(JsonNode node, String prefix, String... keys) {
      Set<String> known = Set.of(keys);
      for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
        String key = it.next();
        if (!known.contains(key)) {
          throw bad(prefix + key, "is not a descriptor key; known: " + String.join(", ", keys));
        }
      }
    }

    private static JsonNode at(JsonNode node, String key) {
      return node.get(key.substring(key.lastIndexOf('.') + 1));
    }

    JsonNode object(JsonNode node, String key) {
      JsonNode v = at(node, key);
      if (v == null || !v.isObject()) {
        throw bad(key, "is missing or not a mapping");
      }
      return v;
    }

    String text(JsonNode node, String key) {
      String v = optText(node, key);
      if (v == null) {
        throw bad(key, "is missing");
      }
      return v;
    }

    String optText(JsonNode node, String key) {
      JsonNode v = at(node, key);
      if (v == null || v.isNull()) {
        return null;
      }
      if (!v.isValueNode() || v.asText().isBlank()) {
        throw bad(key, "must be a non-empty string");
      }
      return v.asText();
    }

    int intIn(JsonNode node, String key, int min, int max) {
      JsonNode v = at(node, key);
      if (v == null || !v.canConvertToInt() || !v.isIntegralNumber() || v.asInt() < min
          || v.asInt() > max) {
        throw bad(key, "must be an integer in [" + min + ", " + max + "]");
      }
      return v.asInt();
    }

    double[] range(JsonNode node, String key) {
      JsonNode v = at(node, key);
      if (v == null || !v.isArray() || v.size() != 2 || !v.get(0).isNumber()
          || !v.get(1).isNumber() || !(v.get(0).asDouble() < v.get(1).asDouble())) {
        throw bad(key, "must be [low, high] with low < high");
      }
      return new double[] {v.get(0).asDouble(), v.get(1).asDouble()};
    }
  }
}
