package io.sluice.config;

import java.nio.file.Path;
import java.util.List;

/**
 * TLS termination on a listener ({@code listeners[].tls}).
 *
 * @param certificates   chosen by the client's SNI: exact names, then wildcards, then the first as default.
 *                       Names come from each certificate (SAN DNS entries, then CN)
 * @param protocols      enabled protocol versions, e.g. TLSv1.2, TLSv1.3
 * @param ciphers        TLS 1.2 cipher suites, or empty for the built-in modern list
 * @param alpn           protocols offered by ALPN, most preferred first
 * @param clientAuth     whether clients must present a certificate (mutual TLS)
 * @param clientCa       CA certificates (PEM) that client certificates must chain to; null without client_auth
 * @param sessionTickets whether TLS session tickets (stateless resumption) are issued
 * @param sessionCache   whether the server keeps sessions to resume by session ID (TLS 1.2) or by a stateful
 *                       ticket (TLS 1.3): with {@code sessionTickets}, both off = full handshakes only
 * @param provider       which TLS engine: OpenSSL (BoringSSL) when it loads, or the JDK's
 * @param clientCaAt     where {@code client_ca} is in the config file, for errors found when the file is read
 * @param ciphersAt      where {@code ciphers} is, for names the chosen engine turns out not to know
 */
public record TlsConfig(List<CertificateFiles> certificates, List<String> protocols, List<String> ciphers,
                        List<String> alpn, ClientAuth clientAuth, Path clientCa, boolean sessionTickets,
                        boolean sessionCache, Provider provider, Located clientCaAt, Located ciphersAt) {

    public static final List<String> DEFAULT_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");
    /** ECDHE with AEAD only, ECDSA first (the order Mozilla's "intermediate" profile gives). */
    public static final List<String> DEFAULT_CIPHERS = List.of(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    /** The protocol names a listener may enable: TLS 1.0 and 1.1 are deprecated (RFC 8996). */
    public static final List<String> KNOWN_PROTOCOLS = List.of("TLSv1.2", "TLSv1.3");
    /** On http listeners; a tcp listener offers no ALPN unless told (it cannot know the protocol). */
    /** On http listeners: HTTP/2 preferred, as HAProxy's default ALPN on ssl binds since 2.8. */
    public static final List<String> DEFAULT_ALPN = List.of("h2", "http/1.1");
    public static final ClientAuth DEFAULT_CLIENT_AUTH = ClientAuth.NONE;
    public static final boolean DEFAULT_SESSION_TICKETS = true;
    public static final boolean DEFAULT_SESSION_CACHE = true;
    public static final Provider DEFAULT_PROVIDER = Provider.AUTO;
    /**
     * Why {@code session_cache: false} is an error on the JDK's engine: its server session cache takes a size and
     * a timeout per context, where 0 means unlimited, and its TLS 1.3 tickets follow a JVM-wide property.
     */
    public static final String SESSION_CACHE_NEEDS_OPENSSL = "false needs the OpenSSL provider: the JDK's TLS "
            + "engine cannot turn its server session cache off per listener (a cache size or timeout of 0 means "
            + "unlimited)";

    public TlsConfig {
        certificates = List.copyOf(certificates);
        protocols = List.copyOf(protocols);
        ciphers = List.copyOf(ciphers);
        alpn = List.copyOf(alpn);
    }

    /**
     * One certificate chain (PEM, leaf first) and its private key (PEM). {@code line} is where the entry is in
     * the config file, so a problem found when the files are read (at check, start, reload or rotation) can
     * name it.
     */
    public record CertificateFiles(Path cert, Path key, String configPath, int line, int column) {
    }

    /** A key's place in the config file: {@code configPath} such as {@code listeners[0].tls.client_ca}. */
    public record Located(String configPath, int line, int column) {
        public static final Located NOWHERE = new Located("", 0, 0);
    }

    public enum ClientAuth { NONE, OPTIONAL, REQUIRE }

    public enum Provider { AUTO, OPENSSL, JDK }
}
