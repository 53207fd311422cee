package dev.trainfeed.server.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;

/** Checks that a private key belongs to a certificate, by signing and verifying a message. */
final class KeyPairCheck {
  private KeyPairCheck() {}

  /** Throws unless {@code key} signs what {@code cert}'s public key verifies. */
  static void requireMatch(X509Certificate cert, PrivateKey key) throws GeneralSecurityException {
    String algorithm = switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null) {
      return; // an algorithm this check does not know: the TLS handshake still validates it
    }
    byte[] message = "trainfeed key check".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(message);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(cert.getPublicKey());
    verifier.update(message);
    if (!verifier.verify(signature)) {
      throw new GeneralSecurityException("the private key does not belong to the certificate "
          + cert.getSubjectX500Principal().getName());
    }
  }
}
