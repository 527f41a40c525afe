package io.sluice.tls;

import io.sluice.config.TlsConfig;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * One certificate chain (leaf first) with its private key, read from the files a config entry names, and what
 * SNI selection and the expiry alert need from it: its host names (SAN DNS entries, else the CN) and notAfter.
 */
record ServerCertificate(TlsConfig.CertificateFiles files, List<X509Certificate> chain, PrivateKey key,
                         List<String> names, Instant notAfter) {

    ServerCertificate {
        chain = List.copyOf(chain);
        names = List.copyOf(names);
    }

    static ServerCertificate of(TlsConfig.CertificateFiles files, List<X509Certificate> chain, PrivateKey key) {
        X509Certificate leaf = chain.get(0);
        return new ServerCertificate(files, chain, key, names(leaf), leaf.getNotAfter().toInstant());
    }

    X509Certificate leaf() {
        return chain.get(0);
    }

    /** SAN DNS names in certificate order, lower case; the subject's CN only when there are none (RFC 6125). */
    static List<String> names(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (List<?> san : cert.getSubjectAlternativeNames()) {
                    if (san.size() == 2 && Integer.valueOf(2).equals(san.get(0)) && san.get(1) instanceof String dns) {
                        out.add(dns.toLowerCase(Locale.ROOT));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // an unreadable SAN extension: fall back to the CN like a certificate without one
        }
        if (out.isEmpty()) {
            try {
                for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                    if (rdn.getType().equalsIgnoreCase("CN")) {
                        out.add(rdn.getValue().toString().toLowerCase(Locale.ROOT));
                    }
                }
            } catch (InvalidNameException e) {
                // no usable CN either: the certificate can still be the default
            }
        }
        return out;
    }
}
