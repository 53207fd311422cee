package dev.trainfeed.server.order;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and verifies self-contained resume tokens. Layout: {@code "TFR"}, format version (1 byte),
 * token kind (1 byte), key id (4 bytes), payload, HMAC-SHA256 (32 bytes) over all that precedes
 * it. The server keeps no memory of tokens: any replica with the key can verify one.
 */
public final class ResumeTokenCodec {
  /** Token kind of a {@code StreamBatches} position. */
  public static final byte KIND_STREAM = 1;
  /** Token kind of a {@code Synthesize} position. */
  public static final byte KIND_SYNTHESIZE = 2;

  private static final byte[] MAGIC = {'T', 'F', 'R'};
  private static final byte FORMAT = 1;
  private static final int HEADER = MAGIC.length + 2 + 4;
  private static final int MAC_BYTES = 32;
  /** Tokens are small; this bounds the work a hostile one can cause. */
  private static final int MAX_TOKEN_BYTES = 4096;

  private final ResumeKeyring keys;

  /** A codec that signs with the keyring's first key and accepts all its keys. */
  public ResumeTokenCodec(ResumeKeyring keys) {
    this.keys = keys;
  }

  /** Signs {@code payload} as a token of {@code kind}. */
  public byte[] sign(byte kind, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length + MAC_BYTES);
    b.put(MAGIC).put(FORMAT).put(kind).putInt(keys.signingKeyId()).put(payload);
    byte[] mac = mac(keys.signingKey(), b.array(), b.position());
    b.put(mac);
    return b.array();
  }

  /**
   * Verifies a token of {@code kind} and returns its payload.
   *
   * @throws InvalidResumeTokenException malformed, of another kind, or its MAC does not verify
   */
  public byte[] verify(byte kind, byte[] token) throws InvalidResumeTokenException {
    if (token.length < HEADER + MAC_BYTES || token.length > MAX_TOKEN_BYTES) {
      throw new InvalidResumeTokenException("resume_token is malformed (" + token.length
          + " bytes); pass the resume_token of a Batch unchanged, or leave it empty to start the "
          + "epoch from the beginning");
    }
    ByteBuffer b = ByteBuffer.wrap(token);
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!MessageDigest.isEqual(magic, MAGIC) || b.get() != FORMAT) {
      throw new InvalidResumeTokenException("resume_token is not a TrainFeed v1 token; pass the "
          + "resume_token of a Batch unchanged");
    }
    byte actualKind = b.get();
    int keyId = b.getInt();
    byte[] key = keys.key(keyId);
    if (key == null) {
      throw new InvalidResumeTokenException("resume_token was signed with a key this server does "
          + "not have; give every replica the same --resume-key-file");
    }
    int macAt = token.length - MAC_BYTES;
    byte[] expected = mac(key, token, macAt);
    byte[] actual = new byte[MAC_BYTES];
    System.arraycopy(token, macAt, actual, 0, MAC_BYTES);
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new InvalidResumeTokenException("resume_token failed verification (altered or "
          + "forged); pass the resume_token of a Batch unchanged");
    }
    if (actualKind != kind) {
      throw new InvalidResumeTokenException("resume_token belongs to another RPC ("
          + (actualKind == KIND_STREAM ? "StreamBatches" : "Synthesize") + ")");
    }
    byte[] payload = new byte[macAt - HEADER];
    System.arraycopy(token, HEADER, payload, 0, payload.length);
    return payload;
  }

  /** Writes a token's payload. */
  @FunctionalInterface
  public interface PayloadWriter {
    /** Writes the payload fields to {@code out}. */
    void write(DataOutputStream out) throws IOException;
  }

  /** Reads a token's payload back. */
  @FunctionalInterface
  public interface PayloadReader<T> {
    /** Reads the payload fields from {@code in}, in the order they were written. */
    T read(DataInputStream in) throws IOException;
  }

  /** Signs the payload that {@code writer} writes as a token of {@code kind}. */
  public byte[] sign(byte kind, PayloadWriter writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sign(kind, bytes.toByteArray());
  }

  /**
   * Verifies a token of {@code kind} and reads its payload with {@code reader}, which must consume
   * it exactly.
   *
   * @throws InvalidResumeTokenException malformed, of another kind, forged, or a payload that
   *     does not read back
   */
  public <T> T verify(byte kind, byte[] token, PayloadReader<T> reader)
      throws InvalidResumeTokenException {
    byte[] payload = verify(kind, token);
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      T value = reader.read(in);
      if (in.available() != 0) {
        throw new InvalidResumeTokenException("resume_token payload is malformed");
      }
      return value;
    } catch (IOException | IllegalArgumentException e) {
      // A verified MAC with a bad payload means a key was shared with something else.
      throw new InvalidResumeTokenException("resume_token payload is malformed");
    }
  }

  private static byte[] mac(byte[] key, byte[] data, int len) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(data, 0, len);
      return mac.doFinal();
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is required by every Java platform", e);
    }
  }
}
