package dev.trainfeed.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made at test time with the {@code openssl} command line (ECDSA P-256, keys in
 * PKCS#8 PEM as the server expects): certificate authorities, and certificates they sign for
 * {@code localhost}/{@code 127.0.0.1}.
 */
final class TestCerts {
  private TestCerts() {}

  /** A CA: {@code dir/NAME.pem} and {@code dir/NAME.key}. */
  static Path ca(Path dir, String name) throws Exception {
    Files.createDirectories(dir);
    Path key = dir.resolve(name + ".key");
    Path cert = dir.resolve(name + ".pem");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
        key.toString());
    openssl("req", "-x509", "-new", "-key", key.toString(), "-subj", "/CN=" + name, "-days", "2",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", cert.toString());
    return cert;
  }

  /**
   * A certificate for {@code localhost} and {@code 127.0.0.1} signed by the CA {@code ca}
   * (made by {@link #ca}), usable by servers and clients: {@code dir/NAME.pem}, {@code
   * dir/NAME.key}.
   */
  static Path issue(Path dir, String name, Path ca) throws Exception {
    Path caKey = ca.resolveSibling(ca.getFileName().toString().replace(".pem", ".key"));
    Path key = dir.resolve(name + ".key");
    Path csr = dir.resolve(name + ".csr");
    Path cert = dir.resolve(name + ".pem");
    Path ext = dir.resolve(name + ".ext");
    Files.writeString(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        + "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        + "extendedKeyUsage=serverAuth,clientAuth\n");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
        key.toString());
    openssl("req", "-new", "-key", key.toString(), "-subj", "/CN=" + name, "-out",
        csr.toString());
    openssl("x509", "-req", "-in", csr.toString(), "-CA", ca.toString(), "-CAkey",
        caKey.toString(), "-set_serial", Long.toString(System.nanoTime() & Long.MAX_VALUE),
        "-days", "2", "-extfile", ext.toString(), "-out", cert.toString());
    return cert;
  }

  /** The key file beside a certificate made here. */
  static Path keyOf(Path cert) {
    return cert.resolveSibling(cert.getFileName().toString().replace(".pem", ".key"));
  }

  private static void openssl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("openssl"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed:\n"
          + new String(out, StandardCharsets.UTF_8));
    }
  }
}
