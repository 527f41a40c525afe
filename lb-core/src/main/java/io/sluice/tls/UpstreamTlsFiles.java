package io.sluice.tls;

import io.sluice.config.ConfigError;
import io.sluice.config.TlsConfig;
import io.sluice.config.UpstreamTlsConfig;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the files of a cluster's {@code tls} section with the listener side's reader and rules ({@link TlsFiles}):
 * the CA certificates when they are used (verify on), and the client certificate with its key (matching, in
 * date). The TLS check and the context build both read through here, so they report the same errors.
 */
final class UpstreamTlsFiles {

    private UpstreamTlsFiles() {
    }

    /**
     * What the files hold: {@code ca} empty for the JDK's trust store (or verify off), {@code client} null
     * without a client certificate.
     */
    record Material(List<X509Certificate> ca, TlsFiles.Pair client, List<ConfigError> warnings) {
    }

    /** Reads and checks everything; throws {@link TlsFileException} listing every problem found. */
    static Material load(String where, UpstreamTlsConfig tls, Instant now) {
        List<ConfigError> errors = new ArrayList<>();
        List<ConfigError> warnings = new ArrayList<>();
        MessageDigest digest = TlsFiles.sha256(); // not kept: contexts are rebuilt on every reload anyway
        List<X509Certificate> ca = List.of();
        if (tls.verify() && tls.ca() != null) {
            List<X509Certificate> read = TlsFiles.certificates(tls.ca(), digest, at(where, "ca", tls.caAt()), errors);
            ca = read == null ? List.of() : read;
        }
        TlsFiles.Pair client = null;
        if (tls.cert() != null && tls.key() != null) {
            client = TlsFiles.pair(tls.cert(), at(where, "cert", tls.certAt()), tls.key(),
                    at(where, "key", tls.keyAt()), now, digest, errors, warnings);
        }
        if (!errors.isEmpty()) {
            throw new TlsFileException(errors);
        }
        return new Material(ca, client, warnings);
    }

    /** The key's place; settings built in code have none, and are named by {@code where} alone. */
    private static TlsConfig.Located at(String where, String key, TlsConfig.Located at) {
        return at.configPath().isEmpty() ? new TlsConfig.Located(where + "." + key, 0, 0) : at;
    }
}
