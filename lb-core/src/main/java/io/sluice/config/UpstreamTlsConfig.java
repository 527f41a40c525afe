package io.sluice.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * TLS from Sluice to a cluster's servers ({@code clusters[].tls}).
 *
 * @param sni    the server name sent and verified; null = "auto", the server's host name from its address
 * @param verify whether the server's certificate chain and name are checked
 * @param ca     trusted CA certificates (PEM); null = the JDK's default trust store
 * @param cert   client certificate chain (PEM) for servers that require mutual TLS; null = none
 * @param key    the client certificate's private key (PEM); set exactly when {@code cert} is
 * @param caAt   where {@code ca} is in the config file, for errors found when the file is read (as
 *               {@link TlsConfig#clientCaAt()}); likewise {@code certAt} and {@code keyAt}
 */
public record UpstreamTlsConfig(String sni, boolean verify, Path ca, Path cert, Path key, TlsConfig.Located caAt,
                                TlsConfig.Located certAt, TlsConfig.Located keyAt) {
    public static final boolean DEFAULT_VERIFY = true;

    /** Settings without places in a file (built in code). */
    public UpstreamTlsConfig(String sni, boolean verify, Path ca, Path cert, Path key) {
        this(sni, verify, ca, cert, key, TlsConfig.Located.NOWHERE, TlsConfig.Located.NOWHERE,
                TlsConfig.Located.NOWHERE);
    }

    /** The settings only: a key that moved to another line is the same setting (a reload reports no change). */
    @Override
    public boolean equals(Object o) {
        return o instanceof UpstreamTlsConfig u && verify == u.verify && Objects.equals(sni, u.sni)
                && Objects.equals(ca, u.ca) && Objects.equals(cert, u.cert) && Objects.equals(key, u.key);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sni, verify, ca, cert, key);
    }
}
