package io.sluice.config;

import java.nio.file.Path;

/**
 * TLS from Sluice to a cluster's servers ({@code clusters[].tls}).
 *
 * @param sni    the server name sent and verified; null = "auto", the server's host name from its address
 * @param verify whether the server's certificate chain and name are checked
 * @param ca     trusted CA certificates (PEM); null = the JDK's default trust store
 * @param cert   client certificate chain (PEM) for servers that require mutual TLS; null = none
 * @param key    the client certificate's private key (PEM); set exactly when {@code cert} is
 */
public record UpstreamTlsConfig(String sni, boolean verify, Path ca, Path cert, Path key) {
    public static final boolean DEFAULT_VERIFY = true;
}
