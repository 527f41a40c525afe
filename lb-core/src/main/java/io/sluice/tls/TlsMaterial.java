package io.sluice.tls;

import io.sluice.config.ConfigError;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What a listener's {@code tls} section names, read and checked: its certificates in config order, the client
 * CA certificates (empty without client auth), the SHA-256 of every byte read (what the rotation poll compares),
 * and warnings such as a certificate that expires soon.
 */
record TlsMaterial(List<ServerCertificate> certificates, List<X509Certificate> clientCa, String digest,
                   List<ConfigError> warnings) {

    TlsMaterial {
        certificates = List.copyOf(certificates);
        clientCa = List.copyOf(clientCa);
        warnings = List.copyOf(warnings);
    }
}
