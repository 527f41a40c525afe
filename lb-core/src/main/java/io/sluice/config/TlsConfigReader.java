package io.sluice.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Reads a listener's {@code tls} section. Only its shape is checked here: the files it names are read, and the
 * cipher names held to the engine that will use them, by the TLS check that runs above the config (at
 * {@code sluice check}, start and every reload), which is why the places of those keys are kept in the record.
 */
final class TlsConfigReader {
    static final Set<String> TLS = ConfigNode.keys("certificates", "protocols", "ciphers", "alpn", "client_auth",
            "client_ca", "session_tickets", "session_cache", "provider");
    static final Set<String> CERTIFICATE = ConfigNode.keys("cert", "key");

    /** Names of TLS 1.3 suites: engines enable them all and take no list, so naming one is a mistake. */
    private static final Set<String> TLS13_SUITES = Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256");

    private TlsConfigReader() {
    }

    /** The listener's {@code tls}, or null when it has none. */
    static TlsConfig read(ConfigNode listener, ListenerConfig.Protocol protocol, boolean splice) {
        ConfigNode n = listener.map("tls", TLS);
        if (n == null) {
            return ListenerConfig.DEFAULT_TLS;
        }
        if (splice) {
            listener.error("splice", "cannot be used with tls: splice(2) moves bytes between sockets without "
                    + "reading them, so nothing could encrypt or decrypt them");
        }
        List<TlsConfig.CertificateFiles> certificates = certificates(n);
        List<String> protocols = protocols(n);
        List<String> ciphers = ciphers(n);
        List<String> alpn = alpn(n, protocol);
        TlsConfig.ClientAuth clientAuth = n.choice("client_auth", TlsConfig.DEFAULT_CLIENT_AUTH,
                TlsConfig.ClientAuth.class);
        String ca = n.string("client_ca", null);
        if (clientAuth != TlsConfig.ClientAuth.NONE && (ca == null || ca.isBlank())) {
            n.error("client_ca", "required with client_auth: " + clientAuth.name().toLowerCase(Locale.ROOT)
                    + " (the CA certificates, PEM, that client certificates must chain to)");
        } else if (clientAuth == TlsConfig.ClientAuth.NONE && ca != null) {
            n.error("client_ca", "has no effect with client_auth: none; set client_auth to optional or require");
        }
        boolean tickets = n.bool("session_tickets", TlsConfig.DEFAULT_SESSION_TICKETS);
        boolean cache = n.bool("session_cache", TlsConfig.DEFAULT_SESSION_CACHE);
        TlsConfig.Provider provider = n.choice("provider", TlsConfig.DEFAULT_PROVIDER, TlsConfig.Provider.class);
        if (!cache && provider == TlsConfig.Provider.JDK) {
            n.error("session_cache", TlsConfig.SESSION_CACHE_NEEDS_OPENSSL);
        }
        return new TlsConfig(certificates, protocols, ciphers, alpn, clientAuth,
                ca == null || ca.isBlank() ? null : Path.of(ca), tickets, cache, provider, located(n, "client_ca"),
                located(n, "ciphers"));
    }

    private static List<TlsConfig.CertificateFiles> certificates(ConfigNode n) {
        List<TlsConfig.CertificateFiles> out = new ArrayList<>();
        List<Node> items = n.list("certificates");
        if (items.isEmpty()) {
            n.error("certificates", "required: at least one { cert, key } pair");
        }
        for (int i = 0; i < items.size(); i++) {
            String path = n.join("certificates") + "[" + i + "]";
            ConfigNode c = new ConfigNode(n.errorsSink(), path, items.get(i), CERTIFICATE);
            String cert = c.requiredString("cert");
            String key = c.requiredString("key");
            if (cert != null && key != null) {
                Mark m = items.get(i).getStartMark();
                out.add(new TlsConfig.CertificateFiles(Path.of(cert), Path.of(key), path,
                        m == null ? 0 : m.getLine() + 1, m == null ? 0 : m.getColumn() + 1));
            }
        }
        return out;
    }

    private static List<String> protocols(ConfigNode n) {
        if (!n.has("protocols")) {
            return TlsConfig.DEFAULT_PROTOCOLS;
        }
        List<String> out = new ArrayList<>();
        for (String p : n.stringList("protocols")) {
            if (TlsConfig.KNOWN_PROTOCOLS.contains(p)) {
                if (!out.contains(p)) {
                    out.add(p);
                }
            } else if (p.equals("TLSv1") || p.equals("TLSv1.1") || p.startsWith("SSL")) {
                n.error("protocols", p + " is not supported: it is deprecated (RFC 8996); use TLSv1.2, TLSv1.3");
            } else {
                n.error("protocols", "unknown protocol \"" + p + "\"" + DidYouMean.hint(p, TlsConfig.KNOWN_PROTOCOLS)
                        + " (known: " + String.join(", ", TlsConfig.KNOWN_PROTOCOLS) + ")");
            }
        }
        if (out.isEmpty()) {
            n.error("protocols", "needs at least one of " + String.join(", ", TlsConfig.KNOWN_PROTOCOLS));
            return TlsConfig.DEFAULT_PROTOCOLS;
        }
        return out;
    }

    private static List<String> ciphers(ConfigNode n) {
        if (!n.has("ciphers")) {
            return List.of(); // the engine's modern default (TlsConfig.DEFAULT_CIPHERS)
        }
        List<String> out = new ArrayList<>();
        List<String> named = n.stringList("ciphers");
        for (String c : named) {
            if (TLS13_SUITES.contains(c)) {
                n.error("ciphers", c + " is a TLS 1.3 suite: those are always enabled with TLSv1.3 and not "
                        + "listed; ciphers takes TLS 1.2 suites (IANA names such as "
                        + TlsConfig.DEFAULT_CIPHERS.get(0) + ")");
            } else if (!out.contains(c)) {
                out.add(c);
            }
        }
        if (named.isEmpty()) {
            n.error("ciphers", "is empty: leave it out for the default list, or name TLS 1.2 suites");
        }
        return out;
    }

    private static List<String> alpn(ConfigNode n, ListenerConfig.Protocol protocol) {
        if (!n.has("alpn")) {
            return protocol == ListenerConfig.Protocol.HTTP ? TlsConfig.DEFAULT_ALPN : List.of();
        }
        List<String> out = new ArrayList<>();
        for (String a : n.stringList("alpn")) {
            if (a.isEmpty() || a.length() > 255) {
                n.error("alpn", "protocol names are 1 to 255 bytes, got \"" + a + "\"");
            } else if (protocol == ListenerConfig.Protocol.HTTP && !a.equals("http/1.1") && !a.equals("h2")) {
                // Offering anything else would have clients speak a protocol the listener does not.
                n.error("alpn", "an http listener speaks h2 and http/1.1, got \"" + a + "\"");
            } else if (!out.contains(a)) {
                out.add(a);
            }
        }
        return out;
    }

    static TlsConfig.Located located(ConfigNode n, String key) {
        Node v = n.valueOrSelf(key);
        Mark m = v == null ? null : v.getStartMark();
        return m == null ? new TlsConfig.Located(n.join(key), 0, 0)
                : new TlsConfig.Located(n.join(key), m.getLine() + 1, m.getColumn() + 1);
    }
}
